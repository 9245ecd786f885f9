package assets

import _ "embed"

// BasemapBin is the world basemap drawn under the fleet: Natural Earth land
// outlines (1:10m), lakes and rivers (1:50m) as delta-encoded polylines.
// gen_basemap.py writes it and documents the format; internal/basemap
// decodes it. See SOURCES.md.
//
//go:embed basemap.bin
var BasemapBin []byte
