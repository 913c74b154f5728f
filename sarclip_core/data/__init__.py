"""Training and evaluation data: image chips as normalised model input, caption manifests."""

from .images import IMAGE_SUFFIXES, image_folder, read_chip

__all__ = ["IMAGE_SUFFIXES", "image_folder", "read_chip"]
