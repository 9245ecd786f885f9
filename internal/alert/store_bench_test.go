package alert_test

import (
	"hash/fnv"
	"testing"
	"time"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/ingest"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/network"
)

// BenchmarkStoreHandle is BenchmarkIngest through the store the live
// screen reads into (ingest.Store.Handle, with the screen's options and
// thresholds): each of six partitions a topic delivers its records in
// batches of up to 512, as the consumer does, and a batch is decoded,
// folded, then judged, the data's clock kept per record and the detector
// ticked per batch.
func BenchmarkStoreHandle(b *testing.B) {
	opts := ingest.Options{Expire: 10 * time.Minute, MaxAhead: ingest.DefaultMaxAhead, Base: network.Default()}
	plain := ingest.NewStore(opts)
	cfg := alert.DefaultConfig()
	cfg.Forget = opts.Expire // as the screen has it
	opts.Alerts = &cfg
	judged := ingest.NewStore(opts)
	var p partitions
	alert.Paired(b, p.split, func(batches [][]model.Record, with bool) {
		s := plain
		if with {
			s = judged
		}
		for _, batch := range batches {
			s.Handle(batch)
		}
	})
}

// partitions places records as a keyed producer and a consumer do: a
// record goes to a partition of its topic by its key, and each partition's
// records are delivered in batches, the last record of a batch telling the
// partition's end (caught up, as a live reader is).
type partitions struct {
	next [len(model.Kinds)][6]int64 // the next offset of each partition
}

func (p *partitions) split(recs []model.Record) [][]model.Record {
	const maxBatch = 512
	var parts [len(model.Kinds)][6][]model.Record
	for _, r := range recs {
		h := fnv.New32a()
		h.Write(r.Key)
		i := h.Sum32() % 6
		r.Topic, r.Partition, r.Offset = "fleet."+r.Kind.String(), int32(i), p.next[r.Kind][i]
		p.next[r.Kind][i]++
		parts[r.Kind][i] = append(parts[r.Kind][i], r)
	}
	var batches [][]model.Record
	for k := range parts {
		for _, part := range parts[k] {
			for len(part) > 0 {
				n := min(len(part), maxBatch)
				part[n-1].End = part[n-1].Offset + 1
				batches = append(batches, part[:n])
				part = part[n:]
			}
		}
	}
	return batches
}
