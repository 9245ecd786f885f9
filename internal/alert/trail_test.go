package alert

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The trail's answer agrees with every report kept, to within trailStep
// (and a metre of rounding): all reports since it are within radius
// + trailStep of the latest, and when it is later than the trail's oldest
// mark, one just before it was further than radius - trailStep. Walks
// that stand, creep and jump, far enough that the origin moves many times,
// north across latitudes (where a degree of longitude shrinks), now and
// then across the world, for hours (beyond the range of a mark's time).
func TestTrailAgreesWithReports(t *testing.T) {
	for _, radius := range []float64{60, 2000} {
		trailAgreesWithReports(t, radius)
	}
}

func trailAgreesWithReports(t *testing.T, radius float64) {
	// A mark is within 0.71 units of its report, a metre at 60 m; beyond,
	// marks near the edge count as outside, which is judged late.
	lateBy := trailStep + 1.5*trailUnit(radius)
	type report struct {
		lon, lat float64
		ts       int64
	}
	dist := func(a, b report) float64 {
		dx := (a.lon - b.lon) * math.Cos(b.lat*math.Pi/180) * metresPerDegLon
		dy := (a.lat - b.lat) * metresPerDegLat
		return math.Hypot(dx, dy)
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var tr trail
		var reports []report
		r := report{lon: -87.6, lat: 41.8 + float64(seed), ts: 1e18}
		for i := range 4000 {
			switch k := rng.IntN(10); {
			case k < 4: // stand
			case k < 8: // creep
				r.lon += (rng.Float64() - 0.5) * 40 / 83000
				r.lat += (rng.Float64() - 0.3) * 40 / metresPerDegLat
			case rng.IntN(50) == 0: // across the world
				r.lon += 20 * (rng.Float64() - 0.5)
			default: // jump
				r.lon += (rng.Float64() - 0.5) * 3000 / 83000
				r.lat += rng.Float64() * 2000 / metresPerDegLat
			}
			r.ts += int64(rng.IntN(30)+1) * 1e9
			reports = append(reports, r)
			since := tr.add(r.lon, r.lat, r.ts, radius, r.ts)
			// exact is the first report from which on all are within d.
			exact := func(d float64) int64 {
				j := len(reports) - 1
				for j > 0 && dist(reports[j-1], r) <= d {
					j--
				}
				return reports[j].ts
			}
			if lo := exact(radius + trailStep + 1); since < lo {
				t.Fatalf("radius %.0f, seed %d report %d: since %d, but a report after it is more than %.1f m away (from %d)",
					radius, seed, i, since, radius+trailStep+1, lo)
			}
			oldest := tr.markNs(&tr.marks[(int(tr.head)+trailLen-int(tr.n))%trailLen])
			if hi := exact(radius - lateBy); since > hi && since > oldest {
				t.Fatalf("radius %.0f, seed %d report %d: since %d, but all reports from %d are within %.1f m", radius, seed, i, since, hi, radius-lateBy)
			}
		}
	}
}

// A vehicle that stands for hours stays stuck on the trail, though its
// marks' times reach only 109 minutes back: its answer is then at least
// half of that long ago (the marks' base moves by half), never a recent
// time.
func TestTrailStandsForHours(t *testing.T) {
	var tr trail
	ts := int64(1e18)
	lon, lat := -87.6, 41.8
	for i := range 100 { // an approach, a metre a second
		tr.add(lon+float64(i)/83000, lat, ts, 60, ts)
		ts += 1e9
	}
	stood := ts
	for ts < stood+4*3600e9 {
		since := tr.add(lon+100.0/83000, lat, ts, 60, ts)
		want := min(time.Duration(ts-stood)+59*time.Second, 54*time.Minute)
		if got := time.Duration(ts - since); got < want {
			t.Fatalf("after %v standing: since %v before now, want at least %v", time.Duration(ts-stood), got, want)
		}
		ts += 30e9
	}
}

// A clock before 1970 or after 2106, beyond the marks' base, gives no
// trail: the vehicle is not judged stuck, and nothing breaks.
func TestTrailOutsideItsClock(t *testing.T) {
	for _, ts := range []int64{-3600e9, math.MaxInt64 - 3600e9} {
		var tr trail
		for i := range int64(20) {
			if since := tr.add(-87.6, 41.8, ts+i*60e9, 60, ts+i*60e9); since != ts+i*60e9 {
				t.Fatalf("at %d: since %d", ts+i*60e9, since)
			}
		}
	}
}
