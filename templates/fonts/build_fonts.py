#!/usr/bin/env python3
"""Rebuild the report's compact fonts from the DejaVu fonts (run by hand; the output is committed).

Usage: python templates/fonts/build_fonts.py [DEJAVU_FOLDER]   (default /usr/share/fonts/truetype/dejavu)

The PDF report embeds these instead of the installed DejaVu faces: each keeps the
characters reports use (Latin, Greek, punctuation, arrows, math operators, sub-
and superscripts) with the legacy `kern` table and no OpenType layout tables
(GSUB/GPOS/GDEF/MATH) and no hinting, so WeasyPrint's font subsetting (fontTools,
when HarfBuzz-Subset is not installed) reads a ~100 KB font instead of a ~700 KB
one with large layout tables: several times faster, same glyphs. A character
outside the set falls back to the installed fonts. Renamed "tokencalc Sans" /
"tokencalc Sans Mono", as the Bitstream Vera licence asks of a modified font
(see LICENSE-DejaVu.txt).
"""

from __future__ import annotations

import sys
from pathlib import Path

# What reports print: Latin (with Latin-1 and Latin Extended-A), Greek letters, punctuation, sub- and
# superscripts, and the arrows, math operators and marks that technical text uses. Kept small on purpose:
# subsetting time grows with the font's glyph count.
RANGES = ((0x20, 0x7E), (0xA0, 0x17F), (0x300, 0x308), (0x30A, 0x30A), (0x30C, 0x30C), (0x327, 0x328),
          (0x391, 0x3A9), (0x3B1, 0x3C9), (0x3D1, 0x3D1), (0x3D5, 0x3D5), (0x3F5, 0x3F5),
          (0x2009, 0x200B), (0x2010, 0x2027), (0x202F, 0x2030), (0x2032, 0x2033), (0x2039, 0x203A), (0x2044, 0x2044),
          (0x2060, 0x2060), (0x2070, 0x2071), (0x2074, 0x208E), (0x2090, 0x209C), (0x20AC, 0x20AC),
          (0x2113, 0x2113), (0x2116, 0x2116), (0x2122, 0x2122), (0x2126, 0x2126), (0x212B, 0x212B),
          (0x2190, 0x2195), (0x21D0, 0x21D4), (0x2200, 0x2200), (0x2202, 0x2203), (0x2205, 0x2209), (0x220B, 0x220B),
          (0x220F, 0x220F), (0x2211, 0x2213), (0x2215, 0x2215), (0x2217, 0x221A), (0x221D, 0x221E),
          (0x2220, 0x2220), (0x2227, 0x222B), (0x2234, 0x2235), (0x223C, 0x223C), (0x2243, 0x2243), (0x2245, 0x2245),
          (0x2248, 0x2248), (0x2260, 0x2261), (0x2264, 0x2265), (0x226A, 0x226B), (0x2282, 0x2283), (0x2286, 0x2287),
          (0x2295, 0x2295), (0x2297, 0x2297), (0x22C5, 0x22C5), (0x25A0, 0x25A1), (0x25AA, 0x25AB), (0x25B2, 0x25B3),
          (0x25B6, 0x25B7), (0x25BC, 0x25BD), (0x25C6, 0x25C7), (0x25CB, 0x25CB), (0x25CF, 0x25CF), (0x25E6, 0x25E6),
          (0x2713, 0x2717))
FACES = (("DejaVuSans.ttf", "tokencalc-sans.ttf", "tokencalc Sans", "Regular"),
         ("DejaVuSans-Bold.ttf", "tokencalc-sans-bold.ttf", "tokencalc Sans", "Bold"),
         ("DejaVuSans-Oblique.ttf", "tokencalc-sans-oblique.ttf", "tokencalc Sans", "Oblique"),
         ("DejaVuSansMono.ttf", "tokencalc-sans-mono.ttf", "tokencalc Sans Mono", "Regular"))


def build(src: Path, out: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    unicodes = [c for lo, hi in RANGES for c in range(lo, hi + 1)]
    for source, target, family, style in FACES:
        opts = subset.Options()
        opts.hinting = False
        opts.layout_features = []
        opts.legacy_kern = True
        opts.drop_tables += ["GSUB", "GPOS", "GDEF", "MATH", "FFTM"]
        opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
        opts.notdef_outline = True
        opts.glyph_names = False  # post format 3: nothing to parse
        opts.legacy_cmap = False
        font = TTFont(src / source, recalcTimestamp=False)
        sub = subset.Subsetter(opts)
        sub.populate(unicodes=unicodes)
        sub.subset(font)
        full = family if style == "Regular" else f"{family} {style}"
        ps = full.replace(" ", "")
        for rec in font["name"].names:
            if rec.nameID in (1, 16):
                rec.string = family
            elif rec.nameID in (3, 4):
                rec.string = full + " (subset of DejaVu)"
            elif rec.nameID == 6:
                rec.string = ps
        font.save(out / target)
        print(f"{target}: {(out / target).stat().st_size:,} bytes")


if __name__ == "__main__":
    build(Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/dejavu"), Path(__file__).parent)
