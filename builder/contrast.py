"""Whether the theme's colours can be read: WCAG 2 contrast of text on its background.

The formula is WCAG 2.x's own (relative luminance of sRGB colours, ratio (L1 + 0.05) / (L2 + 0.05));
a pair passes level AA for normal text at 4.5:1. A failing colour comes with the nearest shade of
the same hue and saturation (HSL lightness moved away from its partner) that passes.
"""

from __future__ import annotations

import colorsys
import math

WCAG_AA_TEXT = 4.5

# The text colour of the page's primary buttons, whose background is theme.primary_color
# (templates/page/style.css: `button, .button { … background: var(--primary); color: #fff; }`).
BUTTON_TEXT = "#ffffff"


def parse_hex(colour: str) -> tuple[float, float, float]:
    """A CSS hex colour (#rgb or #rrggbb) as sRGB channels from 0 to 1."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    if len(digits) != 6:
        raise ValueError(f"not a CSS hex colour: {colour!r}")
    return tuple(int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def to_hex(red: float, green: float, blue: float) -> str:
    return "#" + "".join(f"{round(min(max(channel, 0.0), 1.0) * 255):02X}" for channel in (red, green, blue))


def relative_luminance(colour: str) -> float:
    """WCAG 2's relative luminance: 0 for black, 1 for white."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(channel) for channel in parse_hex(colour))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """From 1 (the same luminance) to 21 (black on white); the order of the colours does not matter."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def passing_shade(colour: str, against: str, minimum: float = WCAG_AA_TEXT) -> str | None:
    """The nearest colour of the same hue and saturation whose contrast with `against` is at least
    `minimum`: HSL lightness moved towards black or white, whichever passes with the smaller
    change. None if neither end passes (only for minimums above what black or white reach)."""
    red, green, blue = parse_hex(colour)
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)
    best: tuple[int, str] | None = None
    for direction in (-1, 1):
        # Steps of 0.1 % lightness; each candidate is judged as the hex colour it rounds to.
        for step in range(1, 1001):
            shifted = lightness + direction * step / 1000
            if not 0 <= shifted <= 1:
                break
            candidate = to_hex(*colorsys.hls_to_rgb(hue, shifted, saturation))
            if contrast_ratio(candidate, against) >= minimum:
                if best is None or step < best[0]:
                    best = (step, candidate)
                break
    return None if best is None else best[1]


def shown_ratio(ratio: float, minimum: float = WCAG_AA_TEXT) -> str:
    """To two decimals, but a ratio under the bound never reads as reaching it (4.497 → 4.49)."""
    shown = round(ratio, 2)
    if ratio < minimum <= shown:
        shown = math.floor(ratio * 100) / 100
    return f"{shown:.2f}:1"


def contrast_warning(field: str, what: str, colour: str, against: str) -> str | None:
    """A warning for `field` (the colour the author may change) if `colour` on `against` fails AA."""
    ratio = contrast_ratio(colour, against)
    if ratio >= WCAG_AA_TEXT:
        return None
    message = f"{field}: {what} has contrast {shown_ratio(ratio)}, below {WCAG_AA_TEXT}:1 (WCAG AA)"
    shade = passing_shade(colour, against)
    if shade is not None:
        darker = relative_luminance(shade) < relative_luminance(colour)
        message += f'; a {"darker" if darker else "lighter"} shade of the same hue that passes: "{shade}"'
    return message


def theme_contrast_warnings(theme: object) -> list[str]:
    """Every pair of the theme's colours that fails WCAG AA for normal text, as warning messages."""
    text, background, primary = theme.text_color, theme.background_color, theme.primary_color
    warnings = [
        contrast_warning("theme.text_color", f'text "{text}" on background "{background}"', text, background),
        contrast_warning("theme.primary_color", f'button text on "{primary}"', primary, BUTTON_TEXT),
    ]
    return [warning for warning in warnings if warning is not None]
