"""D2C (detection-to-caption): detection annotations and other SAR sources -> boxes -> diverse true captions."""

from .boxes import Box, ImageRecord
from .captions import Captioner
from .validate import AnnotationError, Problems, parse_classes
from .vocabulary import Vocabulary, load_vocabulary

__all__ = ["AnnotationError", "Box", "Captioner", "ImageRecord", "Problems", "Vocabulary", "load_vocabulary",
           "parse_classes"]
