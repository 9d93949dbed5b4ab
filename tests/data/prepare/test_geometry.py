import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from animestyle.data.prepare.geometry import CropBox, crop_box, upright_crop


def test_level_eyes_give_an_upright_box_centred_on_them() -> None:
    box = crop_box((40, 50), (60, 50), face_width=30, scale=2.0, lift=0.0)
    assert box.angle == 0
    assert box.side == 60
    assert box.centre == (50, 50)


def test_tilted_eyes_give_their_angle_and_lift_goes_up_the_face() -> None:
    box = crop_box((40, 40), (60, 60), face_width=30, scale=2.0, lift=0.1)
    assert box.angle == pytest.approx(math.pi / 4)
    # "Up" for a face turned 45 degrees clockwise points up and to the right in the picture.
    step = 0.1 * 60 / math.sqrt(2)
    assert box.centre == pytest.approx((50 + step, 50 - step))


def test_bad_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="scale=0 and face_width=30 must be > 0"):
        crop_box((0, 0), (1, 0), face_width=30, scale=0)


def _dots(
    angle_deg: float, centre: tuple[float, float] = (100, 100), spread: float = 30
) -> tuple[Image.Image, tuple, tuple]:
    """A white picture with a red dot (left eye) and a blue dot (right eye) on a line turned by
    ``angle_deg``, and the two dot centres."""
    a = math.radians(angle_deg)
    left = (centre[0] - spread * math.cos(a), centre[1] - spread * math.sin(a))
    right = (centre[0] + spread * math.cos(a), centre[1] + spread * math.sin(a))
    image = Image.new("RGB", (200, 200), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for (x, y), colour in ((left, (255, 0, 0)), (right, (0, 0, 255))):
        draw.ellipse((x - 6, y - 6, x + 6, y + 6), fill=colour)
    return image, left, right


def _centroid(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    mask = (np.abs(pixels[..., :3].astype(int) - colour).max(axis=2) < 60) & (pixels[..., 3] > 0)
    return np.argwhere(mask).mean(axis=0)[::-1]  # (x, y)


@pytest.mark.parametrize("angle", [-35.0, -10.0, 0.0, 20.0, 40.0])
def test_the_crop_turns_the_eye_line_horizontal(angle: float) -> None:
    image, left, right = _dots(angle)
    box = crop_box(left, right, face_width=60, scale=2.0)
    crop = np.asarray(upright_crop(image, box, 64))
    red, blue = _centroid(crop, (255, 0, 0)), _centroid(crop, (0, 0, 255))
    assert abs(red[1] - blue[1]) < 1.0  # level
    assert red[0] < blue[0]  # left eye still on the left
    # 60 px between the eyes in a 120 px square -> half the 64 px crop, centred.
    assert blue[0] - red[0] == pytest.approx(32, abs=1.0)
    assert (red + blue)[0] / 2 == pytest.approx(32, abs=1.0)
    assert (red + blue)[1] / 2 == pytest.approx(32, abs=1.0)


def test_pixels_outside_the_picture_are_transparent() -> None:
    image = Image.new("RGB", (100, 100), (200, 100, 50))
    crop = np.asarray(upright_crop(image, CropBox(centre=(0.0, 50.0), side=100.0, angle=0.0), 50))
    assert crop.shape == (50, 50, 4)
    assert (crop[:, :24, 3] == 0).all()  # left half lies beyond x = 0
    assert (crop[:, 26:, 3] == 255).all()
    assert (np.abs(crop[:, 26:, :3].astype(int) - (200, 100, 50)) <= 1).all()  # no dark fringe


def test_the_source_transparency_is_kept_and_small_squares_are_upsampled() -> None:
    image = Image.new("RGBA", (40, 40), (0, 255, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 20, 40))
    crop = np.asarray(upright_crop(image, CropBox(centre=(20.0, 20.0), side=40.0, angle=0.0), 80))
    assert crop.shape == (80, 80, 4)
    assert (crop[:, :36, 3] == 0).all()
    assert (crop[:, 44:, 3] == 255).all()


def test_a_square_beyond_the_picture_is_all_transparent() -> None:
    crop = np.asarray(upright_crop(Image.new("RGB", (50, 50), (9, 9, 9)), CropBox((500.0, 500.0), 40.0, 0.5), 16))
    assert crop.shape == (16, 16, 4)
    assert (crop[..., 3] == 0).all()
