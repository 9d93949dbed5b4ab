"""Procedural renderer of anime-like portraits: ``render(content, style, size)``.

Shapes are built in a unit canvas (x right, y down, head near the centre), moved by the
content's tilt and offset, drawn with PIL on a canvas ``supersampling(size)`` times larger
and box-filtered down, which anti-aliases every edge. The function is pure: the same
arguments give the same bytes.

Drawing order, back to front: background, back hair, neck and clothes, face, eyes, nose,
mouth, blush, fringe and side locks, glasses. Shapes that must stay inside another (iris in
the eye, shadows on the face) are clamped to it point by point instead of masked, which
keeps drawing cheap: about 1,450 portraits of 64 px a second on one core.
"""

from __future__ import annotations

import math
import numbers
from enum import IntEnum

import numpy as np
from PIL import Image, ImageDraw

from animestyle.data.synthetic.factors import Content, Style

__all__ = ["MAX_SIZE", "MIN_SIZE", "RENDERER_VERSION", "Part", "check_size", "render", "render_parts", "supersampling"]

MIN_SIZE = 32
MAX_SIZE = 256

# Bump when a change to the drawing changes pixels: caches keyed on it (the oracle) expire.
RENDERER_VERSION = 3


class Part(IntEnum):
    """Labels of :func:`render_parts`."""

    BACKGROUND = 0
    SKIN = 1
    HAIR = 2
    EYE = 3
    MOUTH = 4
    BLUSH = 5
    GLASSES = 6
    CLOTHES = 7


RGB = tuple[int, int, int]

HAIR_RGB: dict[str, RGB] = {
    "black": (52, 48, 64),
    "brown": (128, 82, 52),
    "blonde": (242, 212, 122),
    "red": (205, 52, 48),
    "blue": (72, 112, 212),
    "pink": (246, 150, 192),
    "purple": (142, 92, 192),
    "green": (82, 160, 92),
    "silver": (206, 210, 226),
}
EYE_RGB: dict[str, RGB] = {
    "blue": (48, 112, 224),
    "red": (204, 40, 52),
    "brown": (132, 80, 40),
    "green": (40, 152, 82),
    "purple": (144, 72, 204),
    "gold": (226, 170, 40),
}
BACKGROUND_RGB: dict[str, RGB] = {
    "white": (246, 246, 246),
    "sky": (170, 210, 242),
    "pink": (246, 202, 216),
    "mint": (190, 236, 210),
    "lavender": (212, 202, 242),
    "peach": (250, 216, 182),
    "grey": (152, 152, 162),
    "navy": (52, 62, 104),
}
OUTFIT_RGB: dict[str, RGB] = {
    "navy": (42, 52, 92),
    "white": (240, 240, 246),
    "black": (38, 36, 42),
    "red": (182, 42, 52),
    "green": (62, 112, 72),
    "grey": (122, 122, 132),
}
MOUTH_RGB: RGB = (156, 44, 56)
TONGUE_RGB: RGB = (236, 120, 130)
BLUSH_RGB: RGB = (248, 150, 160)
WHITE: RGB = (255, 255, 255)
INK: RGB = (26, 20, 28)


def supersampling(size: int) -> int:
    """Factor by which shapes are drawn larger than ``size`` before box filtering."""
    return max(2, math.ceil(128 / size))


def check_size(size: int, name: str = "size") -> int:
    """``size`` as an int; ValueError naming ``name`` unless it is a supported image size."""
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"{name}={size!r} is not supported; use an integer from {MIN_SIZE} to {MAX_SIZE}")
    return int(size)


# --- colour -----------------------------------------------------------------------------


def _mix(a: RGB | np.ndarray, b: RGB | np.ndarray, t: float) -> np.ndarray:
    return (1 - t) * np.asarray(a, dtype=np.float64) + t * np.asarray(b, dtype=np.float64)


_LUMA = np.array([0.299, 0.587, 0.114])


def _grade(colours: np.ndarray, saturation: float, contrast: float) -> list[RGB]:
    """An artist's colour grading of (N, 3) colours in [0, 1], keeping every hue.

    Contrast moves each colour's grey level away from mid grey by shifting all channels
    equally; saturation scales the colour's distance from its grey. Neither changes the
    ratios of channel differences, i.e. the hue, and the chroma is capped where it would
    leave [0, 1] (rather than clipping channels), so two artists agree on hair hue.
    """
    grey = colours @ _LUMA
    new_grey = np.clip(0.5 + (grey - 0.5) * contrast, 0.0, 1.0)[:, None]
    chroma = colours - grey[:, None]
    up = np.divide(1.0 - new_grey, chroma, out=np.full_like(chroma, np.inf), where=chroma > 0)
    down = np.divide(-new_grey, chroma, out=np.full_like(chroma, np.inf), where=chroma < 0)
    room = np.minimum(up, down)  # largest chroma scale that stays inside [0, 1]; grey: none needed
    scale = np.minimum(saturation, room.min(axis=1, keepdims=True))
    graded = np.clip(new_grey + chroma * scale, 0.0, 1.0)
    return [(r, g, b) for r, g, b in np.rint(graded * 255.0).astype(int).tolist()]


class _Palette:
    """Every colour of one portrait, passed through the artist's saturation and contrast."""

    background: RGB
    outfit: RGB
    collar: RGB
    skin: RGB
    skin_shadow: RGB
    hair: RGB
    hair_shadow: RGB
    hair_light: RGB
    hair_line: RGB
    face_line: RGB
    eye_white: RGB
    iris_dark: RGB
    iris: RGB
    iris_light: RGB
    pupil: RGB
    mouth: RGB
    tongue: RGB
    blush: RGB
    blush_line: RGB
    glasses: RGB
    skin_step0: RGB
    skin_step1: RGB
    skin_step2: RGB
    skin_step3: RGB
    highlight: RGB = WHITE

    def __init__(self, content: Content, style: Style):
        sources = np.concatenate(
            [
                [
                    _BACKGROUND_ROWS[content.background],
                    _OUTFIT_ROWS[content.outfit],
                    _HAIR_ROWS[content.hair_colour],
                    _EYE_ROWS[content.eye_colour],
                ],
                _CONSTANT_SOURCES,
            ]
        )
        mixed = (_RECIPES + style.line_darkness * _RECIPES_PER_DARKNESS) @ sources
        skin = _SKIN_PALE + style.skin_tone * (_SKIN_WARM - _SKIN_PALE)
        graded = _grade(np.concatenate([mixed, _FIXED_COLOURS, skin]), style.saturation, style.contrast)
        for name, rgb in zip(_RECIPE_NAMES + _FIXED_NAMES + _SKIN_NAMES, graded, strict=True):
            setattr(self, name, rgb)
        self.skin_steps: list[RGB] = [self.skin_step0, self.skin_step1, self.skin_step2, self.skin_step3]
        self.hair_back = self.hair_shadow if style.shading != "flat" else self.hair


def _rows(table: dict[str, RGB]) -> dict[str, np.ndarray]:
    return {name: np.asarray(rgb) / 255.0 for name, rgb in table.items()}


_BACKGROUND_ROWS, _OUTFIT_ROWS = _rows(BACKGROUND_RGB), _rows(OUTFIT_RGB)
_HAIR_ROWS, _EYE_ROWS = _rows(HAIR_RGB), _rows(EYE_RGB)
# Colours that depend on the content, as mixtures of 8 source colours: the content's
# background, outfit, hair and eye colours, then ink, the face-line brown, the glasses grey
# and white. A line moves from its own colour towards ink with the artist's line_darkness d:
# weights = _RECIPES + d * _RECIPES_PER_DARKNESS.
_CONSTANT_SOURCES = np.array([INK, (150, 88, 72), (70, 60, 90), WHITE]) / 255.0
_RECIPE_TABLE: dict[str, tuple[list[float], list[float]]] = {
    # name:          (weights at d = 0:  bg, outfit, hair, eye, ink, brown, grey, white), change per unit d
    "background": ([1, 0, 0, 0, 0, 0, 0, 0], [0] * 8),
    "outfit": ([0, 1, 0, 0, 0, 0, 0, 0], [0] * 8),
    "collar": ([0, 0.25, 0, 0, 0, 0, 0, 0.75], [0] * 8),
    "hair": ([0, 0, 1, 0, 0, 0, 0, 0], [0] * 8),
    "hair_shadow": ([0, 0, 0.72, 0, 0, 0, 0, 0], [0] * 8),
    "hair_light": ([0, 0, 0.45, 0, 0, 0, 0, 0.55], [0] * 8),
    "hair_line": ([0, 0, 0.35, 0, 0, 0, 0, 0], [0, 0, -0.35, 0, 1, 0, 0, 0]),
    "face_line": ([0, 0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 1, -1, 0, 0]),
    "iris_dark": ([0, 0, 0, 0.5, 0, 0, 0, 0], [0] * 8),
    "iris": ([0, 0, 0, 1, 0, 0, 0, 0], [0] * 8),
    "iris_light": ([0, 0, 0, 0.6, 0, 0, 0, 0.4], [0] * 8),
    "pupil": ([0, 0, 0, 0.1, 0.6, 0, 0, 0], [0] * 8),
    "glasses": ([0, 0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 1, 0, -1, 0]),
}
_RECIPE_NAMES = tuple(_RECIPE_TABLE)
_RECIPES = np.array([base for base, _ in _RECIPE_TABLE.values()])
_RECIPES_PER_DARKNESS = np.array([per_d for _, per_d in _RECIPE_TABLE.values()])
_FIXED_NAMES = ("eye_white", "mouth", "tongue", "blush_line")
_FIXED_COLOURS = np.array([WHITE, MOUTH_RGB, TONGUE_RGB, _mix(BLUSH_RGB, MOUTH_RGB, 0.5)]) / 255.0
# Skin colours at both ends of the artist's skin_tone: skin, its shadow, the shadow steps of
# gradient shading (darkest first) and blushed skin.
_SKIN_NAMES = ("skin", "skin_shadow", "skin_step0", "skin_step1", "skin_step2", "skin_step3", "blush")


def _skin_colours(skin: RGB, shadow: RGB) -> np.ndarray:
    steps = [_mix(shadow, skin, t) for t in (0.0, 0.3, 0.55, 0.8)]
    return np.array([skin, shadow, *steps, _mix(skin, BLUSH_RGB, 0.75)]) / 255.0


_SKIN_PALE = _skin_colours((255, 242, 236), (236, 196, 196))
_SKIN_WARM = _skin_colours((252, 220, 196), (234, 170, 150))


# --- geometry ---------------------------------------------------------------------------

# 16 points: at 256 px an iris drawn this way is off a true ellipse by under 1/4 px.
_ANGLES = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)
_UNIT_CIRCLE = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    """(16, 2) points of an axis-aligned ellipse."""
    return _UNIT_CIRCLE * (rx, ry) + (cx, cy)


_BEZIER_WEIGHTS: dict[int, np.ndarray] = {}


def _bezier_weights(n: int) -> np.ndarray:
    """(n, 3) weights that turn quadratic Bezier control points into n curve points."""
    weights = _BEZIER_WEIGHTS.get(n)
    if weights is None:
        t = np.linspace(0.0, 1.0, n)[:, None]
        weights = _BEZIER_WEIGHTS[n] = np.concatenate([(1 - t) ** 2, 2 * (1 - t) * t, t**2], axis=1)
    return weights


def _bezier(p0: tuple[float, float], p1: tuple[float, float], p2: tuple[float, float], n: int) -> np.ndarray:
    """(n, 2) points of a quadratic Bezier curve from p0 to p2 pulled towards p1."""
    return _bezier_weights(n) @ np.array([p0, p1, p2], dtype=np.float64)


# The crown of the fringe: a unit ellipse arc over the top of the head.
_CROWN_ARC = np.stack(
    [np.cos(np.linspace(1.06 * np.pi, 1.94 * np.pi, 11)), np.sin(np.linspace(1.06 * np.pi, 1.94 * np.pi, 11))], axis=1
)
# The shiny band across the hair: a strip along a shallow arc (x in crown radii, y in
# unit-canvas units), whose lower edge has teeth 1 or 2 band thicknesses deep.
_SHINE_X = np.concatenate([np.linspace(-0.7, 0.7, 9), np.linspace(0.7, -0.7, 9)])
_SHINE_ARC = np.stack([_SHINE_X, 0.05 * _SHINE_X**2], axis=1)
_SHINE_TEETH = np.stack([np.zeros(18), np.r_[np.zeros(9), 1 + np.arange(9) % 2]], axis=1)


# The head fills this much more of the picture than the unit-canvas layout suggests.
_FRAME_ZOOM = 1.18
_FRAME_CENTRE = (0.5, 0.5)


class _Pen:
    """Records unit-canvas shapes, then paints them on a supersampled canvas.

    Shapes go into a display list; each :meth:`place` starts a group of shapes that share
    one transform, applied to the whole group in one matrix product when :meth:`paint`
    draws. ``parts`` mode fills :class:`Part` labels and skips shapes with no part.
    """

    def __init__(self, size: int, parts: bool):
        self.parts = parts
        self.size = size
        self.canvas = size * supersampling(size)  # side of the supersampled canvas in px
        self.scale = self.canvas * _FRAME_ZOOM  # unit-canvas length -> canvas px
        # Line widths keep their 128 px look at smaller sizes, so an artist's line weight stays
        # visible at 32 and 64 px instead of collapsing onto the thinnest stroke.
        self.stroke_scale = max(size, 128) * supersampling(size) * _FRAME_ZOOM
        self.min_width = supersampling(size) * 0.5  # thinnest stroke: half an output pixel
        self._groups: list[tuple[np.ndarray, np.ndarray, list[np.ndarray]]] = []
        self._ops: list[tuple[int, int, int, int, RGB | int, float]] = []  # kind, group, start, end, ink, width
        self.place(0.0, (0.5, 0.5), (0.0, 0.0))

    def place(self, tilt_deg: float, pivot: tuple[float, float], offset: tuple[float, float]) -> None:
        """Rotate later shapes by ``tilt_deg`` about ``pivot``, then shift them by ``offset``."""
        c, s = math.cos(math.radians(tilt_deg)) * self.scale, math.sin(math.radians(tilt_deg)) * self.scale
        canvas = self.canvas
        # Shift so that the frame centre lands mid-canvas and the pivot then moves by the offset
        # (a fraction of the picture, not of the zoomed frame).
        sx = ((pivot[0] - _FRAME_CENTRE[0]) * _FRAME_ZOOM + 0.5 + offset[0]) * canvas - (pivot[0] * c - pivot[1] * s)
        sy = ((pivot[1] - _FRAME_CENTRE[1]) * _FRAME_ZOOM + 0.5 + offset[1]) * canvas - (pivot[0] * s + pivot[1] * c)
        self._points: list[np.ndarray] = []  # the current group's shapes
        self._groups.append((np.array([[c, s], [-s, c]]), np.array([sx, sy]), self._points))
        self._count = 0  # points recorded in the current group

    def _add(self, kind: int, points: np.ndarray, ink: RGB | int, width: float) -> None:
        self._points.append(points)
        start = self._count
        self._count += len(points)
        self._ops.append((kind, len(self._groups) - 1, 2 * start, 2 * self._count, ink, width))

    def fill(self, points: np.ndarray, colour: RGB, part: Part | None) -> None:
        """A filled polygon, (N, 2) unit-canvas points."""
        if not self.parts:
            self._add(_FILL, points, colour, 0.0)
        elif part is not None:
            self._add(_FILL, points, int(part), 0.0)

    def stroke(self, points: np.ndarray, colour: RGB, width: float, part: Part | None = None) -> None:
        """A polyline of ``width`` unit-canvas units (at least ~0.8 output px)."""
        if self.parts and part is None:
            return
        px = round(max(self.min_width, width * self.stroke_scale))
        self._add(_STROKE, points, int(part) if self.parts and part is not None else colour, px)

    def dot(self, x: float, y: float, r: float, colour: RGB) -> None:
        """A small disc of radius ``r``; carries no part (glints)."""
        if not self.parts:
            self._add(_DOT, np.array([[x, y]]), colour, max(r * self.scale, 0.5))

    def paint(self, background: RGB | int) -> Image.Image:
        """Draw the display list on a fresh canvas: RGB, or L labels in parts mode."""
        image = Image.new("L" if self.parts else "RGB", (self.canvas, self.canvas), background)
        draw = ImageDraw.Draw(image)
        polygon, line, ellipse = draw.polygon, draw.line, draw.ellipse
        flat = [
            (np.concatenate(arrays) @ matrix + shift).ravel().tolist() if arrays else []
            for matrix, shift, arrays in self._groups
        ]
        for kind, group, start, end, ink, width in self._ops:
            xy = flat[group][start:end]
            if kind == _FILL:
                polygon(xy, ink)
            elif kind == _STROKE:
                line(xy, ink, int(width))  # plain joints: curved ones cost a pie slice per vertex
            else:
                x, y = xy
                ellipse((x - width, y - width, x + width, y + width), ink)
        return image


_FILL, _STROKE, _DOT = 0, 1, 2


# Unit half-outlines of the face (half width 1, centre to chin 1): the forehead quarter-ellipse,
# and the jaw from cheek to chin, round (an ellipse) or pointed (a V), blended by jaw_sharpness.
_FOREHEAD = np.stack([np.cos(np.linspace(-0.5 * np.pi, 0, 7)), np.sin(np.linspace(-0.5 * np.pi, 0, 7))], axis=1)
_JAW_T = np.linspace(0.0, 1.0, 9)[1:]
_CHEEK_TAPER = np.linspace(0.3, 1.0, len(_JAW_T) + 1)  # jaw shadow width, thin at the cheek
_JAW_ROUND = np.stack([np.cos(_JAW_T * np.pi / 2), np.sin(_JAW_T * np.pi / 2)], axis=1)
_JAW_POINTED = np.stack(
    [
        np.interp(_JAW_T, [0, 0.35, 0.78, 1], [1, 0.93, 0.36, 0]),
        np.interp(_JAW_T, [0, 0.35, 0.78, 1], [0, 0.45, 0.9, 1]),
    ],
    axis=1,
)


class _Face:
    """Geometry of the face outline and the placement of features, in the unit canvas."""

    def __init__(self, style: Style):
        self.cx, self.cy = 0.5, 0.47
        self.half_width = 0.2
        self.top = 0.23  # centre to hairline (hidden under the hair)
        self.chin = 0.22 * style.face_aspect  # centre to chin
        self.eye_y = self.cy + 0.045 * style.eye_height
        self.eye_dx = 0.096 * style.eye_spacing
        self.eye_w = 0.12 * style.eye_size
        self.eye_h = 0.095 * style.eye_size * style.eye_aspect
        # The crown of the hair: an ellipse around the top of the head.
        self.crown_cy, self.crown_rx, self.crown_ry = self.cy - 0.015, self.half_width + 0.07, self.top + 0.05
        self.outline = self._outline(style.jaw_sharpness)
        right = self.outline[: len(self.outline) // 2 + 1]  # right half, from the top to the chin
        order = np.argsort(right[:, 1])
        self._ys, self._xs = right[order, 1], right[order, 0] - self.cx

    def _outline(self, sharpness: float) -> np.ndarray:
        """(N, 2) closed outline: the right half from the top down to the chin, then the left."""
        lower = (1 - sharpness) * _JAW_ROUND + sharpness * _JAW_POINTED
        right = np.concatenate([_FOREHEAD * (self.half_width, self.top), lower * (self.half_width, self.chin)])
        return np.concatenate([right, right[-2:0:-1] * (-1, 1)]) + np.array([self.cx, self.cy])

    def clamp(self, points: np.ndarray) -> np.ndarray:
        """Points pulled inside the outline: x towards the centre line, y into its height."""
        half = np.interp(points[:, 1], self._ys, self._xs)
        x = np.minimum(np.maximum(points[:, 0], self.cx - half), self.cx + half)
        return np.stack([x, np.minimum(np.maximum(points[:, 1], self._ys[0]), self._ys[-1])], axis=1)


# --- the parts of a portrait ------------------------------------------------------------


def _fringe_edge(face: _Face, content: Content, style: Style) -> np.ndarray:
    """(M, 2) lower edge of the fringe from the left temple to the right: lock tips and notches."""
    n = round(style.hair_locks)
    hw = face.half_width * 1.06
    tip_y = face.eye_y - face.eye_h * 0.72 - 0.03
    xs = [face.cx + hw * (2 * k / n - 1) for k in range(n + 1)]  # notches; tips sit between them
    depth = 0.028 if content.bangs == "blunt" else 0.06
    sweep = {"swept_left": -1.0, "swept_right": 1.0}.get(content.bangs, 0.0)
    lean = 0.6 * sweep * hw / n
    points = [(xs[0] - 0.02, tip_y + 0.02)]
    for k in range(n):
        mid = 0.5 * (xs[k] + xs[k + 1])
        u = (mid - face.cx) / hw  # -1 .. 1 across the forehead
        tip = tip_y + 0.012 * (1 - u * u) + 0.02 * u * sweep  # swept locks hang lower on their side
        points.append((mid + lean, tip))
        if k < n - 1:
            notch_depth = depth
            if content.bangs == "parted" and abs(xs[k + 1] - face.cx) < hw / n:
                notch_depth = 0.12  # the parting opens the forehead
            points.append((xs[k + 1], tip_y - notch_depth))
    points.append((xs[-1] + 0.02, tip_y + 0.02))
    return np.array(points)


def _draw_back_hair(pen: _Pen, face: _Face, content: Content, pal: _Palette) -> None:
    cap_rx, cap_cy = face.crown_rx, face.crown_cy
    pen.fill(_ellipse(face.cx, cap_cy, cap_rx, face.crown_ry), pal.hair_back, Part.HAIR)
    if content.hair_length == "short":
        return
    bottom = face.cy + face.chin + 0.05 if content.hair_length == "medium" else 1.04
    spread = 0.015 if content.hair_length == "medium" else 0.05
    locks = np.linspace(-cap_rx - spread, cap_rx + spread, 7)
    tips = [(face.cx + x, bottom - (0.04 if i % 2 else 0.0)) for i, x in enumerate(locks)]
    shape = [(face.cx - cap_rx, cap_cy), *tips, (face.cx + cap_rx, cap_cy)]
    pen.fill(np.asarray(shape), pal.hair_back, Part.HAIR)


def _draw_body(pen: _Pen, face: _Face, style: Style, pal: _Palette) -> None:
    cx, chin = face.cx, face.cy + face.chin
    neck = np.array([[cx - 0.062, chin - 0.08], [cx + 0.062, chin - 0.08], [cx + 0.07, 0.93], [cx - 0.07, 0.93]])
    pen.fill(neck, pal.skin, Part.SKIN)
    if style.shading != "flat":
        shadow = np.array(
            [
                [cx - 0.07, chin - 0.05],
                [cx + 0.07, chin - 0.05],
                [cx + 0.07, chin + 0.03],
                [cx, chin + 0.05],
                [cx - 0.07, chin + 0.03],
            ]
        )
        pen.fill(shadow, pal.skin_shadow, None)
    shoulders = _bezier((cx - 0.075, chin + 0.07), (cx - 0.34, chin + 0.09), (cx - 0.42, 1.05), 6)
    body = np.concatenate([shoulders, shoulders[::-1] * (-1, 1) + (2 * cx, 0)])
    pen.fill(body, pal.outfit, Part.CLOTHES)
    collar = np.array(
        [
            [cx - 0.09, chin + 0.065],
            [cx, chin + 0.16],
            [cx + 0.09, chin + 0.065],
            [cx + 0.06, chin + 0.06],
            [cx, chin + 0.12],
            [cx - 0.06, chin + 0.06],
        ]
    )
    pen.fill(collar, pal.collar, Part.CLOTHES)
    pen.stroke(body, pal.face_line, 0.004 * style.line_width)


def _draw_face_shading(pen: _Pen, face: _Face, edge: np.ndarray, style: Style, pal: _Palette) -> None:
    """Shadow cast by the fringe and along the jaw: one hard band (cel) or soft steps (gradient).

    Steps go from the lightest, which reaches furthest, to the darkest, drawn last on top.
    """
    if style.shading == "flat":
        return
    if style.shading == "cel":
        reach, colours = np.array([0.0]), [pal.skin_shadow]
    else:
        reach, colours = np.array([0.03, 0.02, 0.01, 0.0]), pal.skin_steps[::-1]
    top = face.cy - face.top
    bands = np.empty((len(reach), len(edge) + 2, 2))
    bands[:, 0], bands[:, -1] = (edge[0, 0], top), (edge[-1, 0], top)
    bands[:, 1:-1] = edge
    bands[:, 1:-1, 1] += 0.035 + reach[:, None]
    clamped = face.clamp(bands.reshape(-1, 2)).reshape(bands.shape)
    cheek = face.outline[len(_FOREHEAD) - 1 : len(_FOREHEAD) + len(_JAW_T)]  # right cheek down to the chin
    inner = cheek - np.outer(0.045 + reach, _CHEEK_TAPER)[:, :, None] * (1.0, 0.0)
    for band, rim, colour in zip(clamped, inner, colours, strict=True):
        pen.fill(band, colour, None)
        pen.fill(np.concatenate([cheek, rim[::-1]]), colour, None)


def _eye_outline(face: _Face, style: Style) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower lid curves (7, 2) of the right eye, relative to its centre, inner
    corner first (x grows outwards)."""
    w, h = face.eye_w, face.eye_h
    inner, outer = (-0.5 * w, 0.05 * h), (0.5 * w, -style.eye_tilt * 0.35 * h)
    upper = _bezier(inner, (0.1 * w, -1.15 * h), outer, 7)
    lower = _bezier(inner, (0.05 * w, 0.75 * h), outer, 7)
    return upper, lower


def _inside_eye(points: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
    x = np.minimum(np.maximum(points[:, 0], upper[0, 0]), upper[-1, 0])
    y_top = np.interp(x, upper[:, 0], upper[:, 1])
    y_bottom = np.interp(x, lower[:, 0], lower[:, 1])
    return np.stack([x, np.minimum(np.maximum(points[:, 1], y_top), y_bottom)], axis=1)


# Glints in iris radii from the iris centre: the main one upper left, then two small ones.
_GLINTS = np.array([[-0.35, -0.35], [0.32, 0.28], [-0.12, 0.38]])
_GLINT_SIZES = np.array([1.0, 0.5, 0.5])  # radii relative to the artist's highlight size


def _draw_eyes(pen: _Pen, face: _Face, style: Style, pal: _Palette) -> None:
    upper, lower = _eye_outline(face, style)
    w, h = face.eye_w, face.eye_h
    lid = 0.009 * style.eyelash * style.line_width**0.5
    rx, ry, cy = 0.33 * w * style.iris_size, 0.62 * h, 0.06 * h
    # Iris, its lit middle and lower glow, and the pupil, clamped to the lids in one go.
    centres = np.array([[0.0, cy], [0.0, cy + 0.25 * ry], [0.0, cy + 0.6 * ry], [0.0, cy + 0.05 * ry]])
    radii = np.array(
        [[rx, ry], [0.8 * rx, 0.65 * ry], [0.55 * rx, 0.3 * ry], [style.pupil_size * rx, 0.85 * style.pupil_size * ry]]
    )
    rings = _inside_eye((_UNIT_CIRCLE[None] * radii[:, None] + centres[:, None]).reshape(-1, 2), upper, lower)
    flick = np.array([[upper[-1, 0] + 0.22 * w, upper[-1, 1] - 0.1 * h]])
    brow = _bezier((-0.45 * w, -1.55 * h), (0.05 * w, -1.95 * h), (0.55 * w, -1.45 * h - style.eye_tilt * 0.2 * h), 5)
    # Every shape of the right eye in one array, mirrored for the left eye in one go.
    shapes = [np.concatenate([upper, lower[::-1]]), rings, np.concatenate([upper, flick]), lower[3:], brow]
    ends = np.cumsum([len(a) for a in shapes]).tolist()
    local = np.concatenate(shapes)
    ring = len(_UNIT_CIRCLE)
    for side in (1.0, -1.0):  # the right eye, then its mirror image on the left
        origin = (face.cx + side * face.eye_dx, face.eye_y)
        eye = local * (side, 1.0) + origin
        white, rings_here, lash, lower_lid, brow_here = np.split(eye, ends[:-1])
        pen.fill(white, pal.eye_white, Part.EYE)
        pen.fill(rings_here[:ring], pal.iris_dark, Part.EYE)
        pen.fill(rings_here[ring : 2 * ring], pal.iris, None)
        pen.fill(rings_here[2 * ring : 3 * ring], pal.iris_light, None)
        pen.fill(rings_here[3 * ring :], pal.pupil, None)
        # One light source at the upper left of the picture: glints on the same side in both
        # eyes (not mirrored). Each disc's top and bottom are kept inside the eyelids.
        count = ("one", "two", "three").index(style.highlights) + 1
        centres = _GLINTS[:count] * (rx, ry) + (0.0, cy)
        radii = style.highlight_size * rx * _GLINT_SIZES[:count]
        tips = np.concatenate([centres - radii[:, None] * (0, 1), centres + radii[:, None] * (0, 1)])
        top, bottom = np.split(_inside_eye(tips * (side, 1.0), upper, lower) * (side, 1.0) + origin, 2)
        for (x, y0), (_, y1), r in zip(top.tolist(), bottom.tolist(), radii.tolist(), strict=True):
            pen.dot(x, (y0 + y1) / 2, min(r, (y1 - y0) / 2), pal.highlight)
        pen.stroke(lash, pal.face_line, lid)
        pen.stroke(lower_lid, pal.face_line, 0.35 * lid)
        pen.stroke(brow_here, pal.hair_line, 0.3 * lid)


def _draw_mouth(pen: _Pen, face: _Face, content: Content, style: Style, pal: _Palette) -> None:
    cx, y = face.cx, face.cy + 0.7 * face.chin
    w = 0.034 * style.mouth_size
    line = 0.0045 * style.line_width
    nose_y = face.cy + 0.4 * face.chin
    pen.stroke(np.array([[cx + 0.004, nose_y - 0.01], [cx, nose_y]]), pal.face_line, 0.6 * line)
    if content.mouth == "closed":  # a short, almost flat line
        pen.stroke(_bezier((cx - 0.5 * w, y), (cx, y - 0.004), (cx + 0.5 * w, y), 4), pal.face_line, line, Part.MOUTH)
    elif content.mouth == "smile":  # a wide arc with raised corners
        pen.stroke(
            _bezier((cx - 1.2 * w, y - 0.018), (cx, y + 0.035), (cx + 1.2 * w, y - 0.018), 6),
            pal.face_line,
            line,
            Part.MOUTH,
        )
    else:
        shape = np.concatenate(
            [
                [[cx - w, y - 0.008], [cx + w, y - 0.008]],
                _bezier((cx + w, y - 0.008), (cx, y + 0.05), (cx - w, y - 0.008), 8)[1:-1],
            ]
        )
        pen.fill(shape, pal.mouth, Part.MOUTH)
        pen.fill(_inside_mouth(_ellipse(cx, y + 0.022, 0.6 * w, 0.01), y), pal.tongue, None)
        pen.stroke(np.concatenate([shape, shape[:1]]), pal.face_line, line)


def _inside_mouth(points: np.ndarray, y: float) -> np.ndarray:
    return np.stack([points[:, 0], np.minimum(np.maximum(points[:, 1], y - 0.004), y + 0.03)], axis=1)


def _draw_blush(pen: _Pen, face: _Face, pal: _Palette) -> None:
    y = face.eye_y + 0.07
    for side in (1.0, -1.0):
        x = face.cx + side * (face.eye_dx + 0.01)
        pen.fill(_ellipse(x, y, 0.045, 0.017), pal.blush, Part.BLUSH)
        for k in (-1, 0, 1):
            x0 = x + k * 0.017
            pen.stroke(np.array([[x0 - 0.004, y + 0.008], [x0 + 0.006, y - 0.008]]), pal.blush_line, 0.003)


def _draw_fringe(pen: _Pen, face: _Face, edge: np.ndarray, content: Content, style: Style, pal: _Palette) -> None:
    cap_rx, top_y = face.crown_rx, face.crown_cy - face.crown_ry
    cap = _CROWN_ARC * (cap_rx, face.crown_ry) + (face.cx, face.crown_cy)
    fringe = np.concatenate([cap, edge[::-1]])
    line = 0.0045 * style.line_width
    pen.fill(fringe, pal.hair, Part.HAIR)
    if style.shading != "flat":  # the lock tips fall into shadow near the face
        pen.fill(np.concatenate([edge, edge[::-1] - (0.0, 0.045)]), pal.hair_shadow, None)
    if style.hair_highlight >= 0.2:
        band_y = top_y + 0.07
        thick = 0.012 + 0.02 * style.hair_highlight
        pen.fill(_SHINE_ARC * (cap_rx, 1.0) + _SHINE_TEETH * thick + (face.cx, band_y), pal.hair_light, None)
    tips = edge[1:-1:2]  # strands from the crown towards each lock tip
    controls = np.stack(
        [
            np.stack([face.cx + 0.4 * (tips[:, 0] - face.cx), np.full(len(tips), top_y + 0.08)], 1),
            tips - (0, 0.1),
            tips - (0, 0.02),
        ],
        1,
    )
    for strand in _bezier_weights(4) @ controls:
        pen.stroke(strand, pal.hair_line, 0.5 * line)
    pen.stroke(np.concatenate([fringe, fringe[:1]]), pal.hair_line, line)
    # Side locks over the cheeks; long ones fall over the chest.
    ends = {"short": face.eye_y + 0.1, "medium": face.cy + face.chin + 0.03, "long": 0.98}
    end_y = ends[content.hair_length]
    for side in (1.0, -1.0):
        x_out = face.cx + side * (face.half_width + 0.035)
        lock = np.array(
            [
                [x_out, edge[0, 1] - 0.1],
                [x_out - side * 0.055, edge[0, 1] - 0.02],
                [x_out - side * 0.045, end_y - 0.1],
                [x_out - side * 0.015, end_y],
                [x_out + side * 0.01, end_y - 0.12],
            ]
        )
        pen.fill(lock, pal.hair, Part.HAIR)
        pen.stroke(lock[1:], pal.hair_line, line)


def _draw_glasses(pen: _Pen, face: _Face, style: Style, pal: _Palette) -> None:
    w, h = face.eye_w * 0.68, face.eye_h * 0.85
    frame = 0.003 * style.line_width  # thin: heavy frames over the eyes hide the face from detectors
    rim = np.sign(_UNIT_CIRCLE) * np.abs(_UNIT_CIRCLE) ** 0.6  # squircle: a rounded rectangle
    for side in (1.0, -1.0):
        x, y = face.cx + side * face.eye_dx, face.eye_y + 0.005
        lens = rim * (w, h) + (x, y)
        pen.stroke(np.concatenate([lens, lens[:1]]), pal.glasses, frame, Part.GLASSES)
        pen.stroke(
            np.array([[x + side * w, y - 0.3 * h], [face.cx + side * (face.half_width + 0.005), y - 0.4 * h]]),
            pal.glasses,
            frame,
            Part.GLASSES,
        )
    bridge = _bezier(
        (face.cx - face.eye_dx + w, face.eye_y - 0.2 * h),
        (face.cx, face.eye_y - 0.4 * h),
        (face.cx + face.eye_dx - w, face.eye_y - 0.2 * h),
        4,
    )
    pen.stroke(bridge, pal.glasses, frame, Part.GLASSES)


def _draw(pen: _Pen, content: Content, style: Style, pal: _Palette) -> None:
    face = _Face(style)
    offset = (content.offset_x, content.offset_y)
    neck = (face.cx, face.cy + face.chin)
    edge = _fringe_edge(face, content, style)
    pen.place(content.tilt, neck, offset)
    _draw_back_hair(pen, face, content, pal)
    pen.place(0.0, neck, offset)
    _draw_body(pen, face, style, pal)
    pen.place(content.tilt, neck, offset)
    pen.fill(face.outline, pal.skin, Part.SKIN)
    _draw_face_shading(pen, face, edge, style, pal)
    pen.stroke(face.outline[3:-2], pal.face_line, 0.0045 * style.line_width)
    _draw_eyes(pen, face, style, pal)
    _draw_mouth(pen, face, content, style, pal)
    if content.blush == "yes":
        _draw_blush(pen, face, pal)
    _draw_fringe(pen, face, edge, content, style, pal)
    if content.glasses == "yes":
        _draw_glasses(pen, face, style, pal)


def render(content: Content, style: Style, size: int = 64) -> Image.Image:
    """Draw one portrait.

    Args:
        content: what the picture shows.
        style: how the artist draws it.
        size: output width and height in pixels, from 32 to 256.

    Returns:
        An RGB ``PIL.Image`` of ``size`` x ``size``; the same arguments give the same bytes.
    """
    size = check_size(size)
    pal = _Palette(content, style)
    pen = _Pen(size, parts=False)
    _draw(pen, content, style, pal)
    return pen.paint(pal.background).reduce(supersampling(size))


def render_parts(content: Content, style: Style, size: int = 64) -> np.ndarray:
    """Part labels of the portrait :func:`render` draws: (size, size) uint8 of :class:`Part`."""
    size = check_size(size)
    pen = _Pen(size, parts=True)
    _draw(pen, content, style, _Palette(content, style))  # colours are ignored in parts mode
    return np.asarray(pen.paint(int(Part.BACKGROUND)).resize((size, size), Image.Resampling.NEAREST))
