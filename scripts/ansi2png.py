#!/usr/bin/env python3
"""Render a `tmux capture-pane -e -p` dump (text with SGR colour codes) to a PNG.

Standard library only: parses the SGR codes into a grid of cells, writes an ImageMagick MVG
drawing (one rectangle per background run, one glyph per cell so box-drawing lines meet), and
has `convert` rasterise it with DejaVu Sans Mono.

usage: ansi2png.py INPUT.ansi OUTPUT.png [COLUMNS ROWS]
"""
import re
import subprocess
import sys
import tempfile

CELL_W, CELL_H, FONT_SIZE, BASELINE = 10, 20, 16.5, 15
DEFAULT_FG, DEFAULT_BG = "#d0d0d0", "#1c1c1c"
# xterm's 16 colours.
BASE16 = [
    "#000000", "#cd0000", "#00cd00", "#cdcd00", "#0000ee", "#cd00cd", "#00cdcd", "#e5e5e5",
    "#7f7f7f", "#ff0000", "#00ff00", "#ffff00", "#5c5cff", "#ff00ff", "#00ffff", "#ffffff",
]


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg, self.bg, self.bold, self.dim, self.reverse = None, None, False, False, False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in params.split(";")] if params else [0]
        i = 0
        while i < len(codes):
            c = codes[i]
            if c == 0:
                self.reset()
            elif c == 1:
                self.bold = True
            elif c == 2:
                self.dim = True
            elif c == 7:
                self.reverse = True
            elif c == 22:
                self.bold = self.dim = False
            elif c == 27:
                self.reverse = False
            elif 30 <= c <= 37:
                self.fg = BASE16[c - 30]
            elif 90 <= c <= 97:
                self.fg = BASE16[c - 90 + 8]
            elif 40 <= c <= 47:
                self.bg = BASE16[c - 40]
            elif 100 <= c <= 107:
                self.bg = BASE16[c - 100 + 8]
            elif c == 39:
                self.fg = None
            elif c == 49:
                self.bg = None
            elif c in (38, 48) and i + 1 < len(codes):
                if codes[i + 1] == 5 and i + 2 < len(codes):
                    colour, i = xterm256(codes[i + 2]), i + 2
                elif codes[i + 1] == 2 and i + 4 < len(codes):
                    colour, i = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5]), i + 4
                else:
                    colour = None
                if c == 38:
                    self.fg = colour
                else:
                    self.bg = colour
            i += 1

    def colours(self):
        fg, bg = self.fg or DEFAULT_FG, self.bg or DEFAULT_BG
        if self.reverse:
            fg, bg = bg, fg
        if self.dim:
            fg = "#808080" if fg == DEFAULT_FG else fg
        return fg, bg


SGR = re.compile(r"\x1b\[([0-9;]*)m")
OTHER_ESC = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]")


def parse(text, cols, rows):
    grid = []
    style = Style()
    for line in text.split("\n")[:rows]:
        line = OTHER_ESC.sub("", line)
        row, pos = [], 0
        for m in SGR.finditer(line):
            for ch in line[pos:m.start()]:
                row.append((ch, *style.colours(), style.bold))
            style.apply(m.group(1))
            pos = m.end()
        for ch in line[pos:]:
            row.append((ch, *style.colours(), style.bold))
        # tmux ends each captured line without padding: fill with the default background.
        while len(row) < cols:
            row.append((" ", DEFAULT_FG, DEFAULT_BG, False))
        grid.append(row[:cols])
    while len(grid) < rows:
        grid.append([(" ", DEFAULT_FG, DEFAULT_BG, False)] * cols)
    return grid


# Box-drawing characters as the arms they have: (left, right, up, down).
BOX = {
    "─": (1, 1, 0, 0), "│": (0, 0, 1, 1), "┌": (0, 1, 0, 1), "┐": (1, 0, 0, 1),
    "└": (0, 1, 1, 0), "┘": (1, 0, 1, 0), "├": (0, 1, 1, 1), "┤": (1, 0, 1, 1),
    "┬": (1, 1, 0, 1), "┴": (1, 1, 1, 0), "┼": (1, 1, 1, 1),
}


def shapes(ch, x0, y0):
    """MVG rectangles for box-drawing lines and block elements; None for ordinary glyphs."""
    cx, cy = x0 + CELL_W // 2, y0 + CELL_H // 2
    if ch in BOX:
        left, right, up, down = BOX[ch]
        out = []
        if left or right:
            a = x0 if left else cx
            b = x0 + CELL_W - 1 if right else cx
            out.append(f"rectangle {a},{cy} {b},{cy}")
        if up or down:
            a = y0 if up else cy
            b = y0 + CELL_H - 1 if down else cy
            out.append(f"rectangle {cx},{a} {cx},{b}")
        return out
    code = ord(ch)
    if 0x2581 <= code <= 0x2588:  # lower eighths: sparkline bars
        h = CELL_H * (code - 0x2580) / 8
        return [f"rectangle {x0},{y0 + CELL_H - h:.1f} {x0 + CELL_W - 1},{y0 + CELL_H - 1}"]
    if 0x2589 <= code <= 0x258F:  # left eighths: gauge edges
        w = CELL_W * (8 - (code - 0x2588)) / 8
        return [f"rectangle {x0},{y0} {x0 + w - 1:.1f},{y0 + CELL_H - 1}"]
    return None


def mvg(grid, cols, rows):
    w, h = cols * CELL_W, rows * CELL_H
    out = [f"viewbox 0 0 {w} {h}", f"fill '{DEFAULT_BG}'", f"rectangle 0,0 {w},{h}",
           f"font-size {FONT_SIZE}", "text-antialias 1"]
    for y, row in enumerate(grid):
        x = 0
        while x < cols:
            bg = row[x][2]
            end = x
            while end < cols and row[end][2] == bg:
                end += 1
            if bg != DEFAULT_BG:
                out.append(f"fill '{bg}'")
                out.append(f"rectangle {x * CELL_W},{y * CELL_H} {end * CELL_W - 1},{(y + 1) * CELL_H - 1}")
            x = end
    font = None
    for y, row in enumerate(grid):
        for x, (ch, fg, _bg, bold) in enumerate(row):
            if ch == " ":
                continue
            shape = shapes(ch, x * CELL_W, y * CELL_H)
            if shape:
                # Lines and blocks drawn as geometry meet across cells; font glyphs leave gaps.
                out.append(f"fill '{fg}'")
                out.extend(shape)
                continue
            want = "DejaVu-Sans-Mono-Bold" if bold else "DejaVu-Sans-Mono"
            if want != font:
                out.append(f"font '{want}'")
                font = want
            glyph = ch.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"fill '{fg}'")
            out.append(f"text {x * CELL_W},{y * CELL_H + BASELINE} '{glyph}'")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) not in (3, 5):
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8", errors="replace") as f:
        text = f.read().rstrip("\n")
    lines = text.split("\n")
    cols = int(sys.argv[3]) if len(sys.argv) == 5 else max(len(SGR.sub("", l)) for l in lines)
    rows = int(sys.argv[4]) if len(sys.argv) == 5 else len(lines)
    drawing = mvg(parse(text, cols, rows), cols, rows)
    with tempfile.NamedTemporaryFile("w", suffix=".mvg", encoding="utf-8", delete=False) as f:
        f.write(drawing)
        path = f.name
    subprocess.run(["convert", f"mvg:{path}", dst], check=True)


if __name__ == "__main__":
    main()
