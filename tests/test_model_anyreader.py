"""AnyReader: tiles and boxes on odd sizes, batch-independent embeddings, the switch-off path, SAR channels."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from sarclip_core.model import AnyReader, create_model


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return create_model("sarclip-tiny-rn").eval()


@pytest.fixture
def reader(model):
    reader = AnyReader.for_model(model).eval()
    with torch.no_grad():
        reader.fusion.gate.fill_(1.0)  # let the attention pooling matter, as after training
    return reader


@pytest.mark.parametrize("height, width", [(1, 1), (100, 900), (2000, 2000)])
def test_tiles_cover_image_without_resampling(reader, height, width):
    torch.manual_seed(1)
    image = torch.randn(1, height, width)
    with torch.no_grad():
        reading = reader([image])
    rows, cols = math.ceil(height / 128), math.ceil(width / 128)
    assert reading.image.shape == (1, 256)
    assert reading.tiles[0].shape == (rows * cols, 256)
    boxes = reading.boxes[0]
    assert boxes.shape == (rows * cols, 4)
    assert int((boxes[:, 2] * boxes[:, 3]).sum()) == height * width  # valid pixels tile the image exactly
    left, top = (cols - 1) * 128, (rows - 1) * 128
    assert boxes[-1].tolist() == [left, top, width - left, height - top]
    col, row, w, h = boxes[min(1, len(boxes) - 1)].tolist()
    tile = F.pad(image[:, row:row + h, col:col + w], (0, 128 - w, 0, 128 - h)).expand(3, -1, -1)
    with torch.no_grad():
        torch.testing.assert_close(reading.tiles[0][min(1, len(boxes) - 1)], reader.encoder(tile[None])[0],
                                   atol=1e-4, rtol=1e-4)


def test_embeddings_do_not_depend_on_batch_composition(reader):
    torch.manual_seed(2)
    a, b, c = torch.randn(1, 300, 500), torch.randn(1, 128, 128), torch.randn(1, 40, 1000)
    with torch.no_grad():
        alone = reader([a])
        mixed = reader([b, a, c])
    torch.testing.assert_close(mixed.image[1], alone.image[0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(mixed.tiles[1], alone.tiles[0], atol=1e-4, rtol=1e-4)
    assert torch.equal(mixed.boxes[1], alone.boxes[0])
    assert not torch.allclose(mixed.image[1], reader.encoder(reader._resize(a.expand(3, -1, -1))[None])[0], atol=1e-3)


def test_fusion_starts_as_the_global_view(model):
    reader = AnyReader.for_model(model).eval()
    image = torch.randn(1, 200, 300)
    with torch.no_grad():
        view = F.interpolate(image.expand(3, -1, -1)[None], size=(128, 128), mode="bilinear", antialias=True)
        torch.testing.assert_close(reader([image]).image[0], model.encode_image(view)[0])


def test_switched_off_is_a_plain_resize(reader, model):
    reader.enabled = False
    chip, large = torch.randn(3, 128, 128), torch.randn(3, 256, 512)
    with torch.no_grad():
        reading = reader([chip, large])
        resized = F.interpolate(large[None], size=(128, 128), mode="bilinear", antialias=True)
        torch.testing.assert_close(reading.image[0], model.encode_image(chip[None])[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(reading.image[1], model.encode_image(resized)[0], atol=1e-5, rtol=1e-5)
    assert reading.boxes[1].tolist() == [[0, 0, 512, 256]]


def test_sar_channels_are_fitted_to_the_encoder(reader):
    single = torch.randn(1, 128, 200)
    dual = torch.randn(2, 128, 200)
    with torch.no_grad():
        torch.testing.assert_close(reader([single]).image, reader([single.expand(3, -1, -1)]).image)
        torch.testing.assert_close(reader([dual]).image, reader([torch.cat([dual, dual.mean(0, keepdim=True)])]).image)


def test_gradients_reach_encoder_and_fusion(model):
    reader = AnyReader.for_model(model).train()
    reader([torch.randn(1, 130, 90), torch.randn(1, 64, 64)]).image.sum().backward()
    assert reader.fusion.gate.grad is not None and reader.encoder.conv1.weight.grad is not None
    model.zero_grad(set_to_none=True)
    model.eval()
