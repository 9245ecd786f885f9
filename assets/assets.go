// Package assets embeds the demo network that both binaries use by default.
package assets

import _ "embed"

// NetworkGeoJSON is the default network: lines, stations and zones modelled
// on Chicago's 'L' (see SOURCES.md).
//
//go:embed network.geojson
var NetworkGeoJSON []byte
