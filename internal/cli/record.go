package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/codec"
	"github.com/fleetwatch/fleetwatch/internal/history"
	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
	"github.com/fleetwatch/fleetwatch/internal/moment"
)

// dbFlag registers --db, whose default is FLEETWATCH_DB.
func dbFlag(fs *pflag.FlagSet) *string {
	return fs.String("db", "", "PostgreSQL URL (postgres://user:pass@host:5432/db?sslmode=…); env FLEETWATCH_DB")
}

// openDB connects to the history database. migrate creates or upgrades the
// schema (the recorder); readers only check that it is there and not newer.
func openDB(ctx context.Context, flag string, migrate bool) (*history.Store, error) {
	url := cmp.Or(flag, os.Getenv("FLEETWATCH_DB"))
	if url == "" {
		return nil, usagef("--db URL (or FLEETWATCH_DB) is needed")
	}
	store, err := history.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if migrate {
		err = store.Migrate(ctx)
	} else {
		err = store.CheckSchema(ctx)
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// recordSummary is the line record prints on exit.
type recordSummary struct {
	Recorded map[string]int64 `json:"recorded"`
	Rejected int64            `json:"rejected"`
}

func runRecord(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet(prog+" record", pflag.ContinueOnError)
	var f watchFlags
	f.register(fs, "earliest")
	db := dbFlag(fs)
	group := fs.String("group", "fleetwatch-record", "consumer group; recorders of one group share the partitions")
	retainFlag := fs.String("retain", "", "drop history older than this (30d, 12h); empty keeps everything")
	progress := fs.Duration("progress", 2*time.Second, "how often to print progress on stderr; 0 for never")
	caughtUp := fs.Bool("until-caught-up", false, "stop once every assigned partition reaches the end it had when assigned")
	writers := fs.Int("writers", 2, "batches written to the database at once, each of its own partitions")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("record: unexpected argument %q", fs.Arg(0))
	}
	if fs.Changed("from") {
		// The group reader starts where the database's offsets are; a start
		// position taken and then ignored would record something else than asked.
		return usagef("record: --from is not supported: a recorder resumes from the database's offsets, or starts at the oldest record")
	}
	var retain time.Duration
	if *retainFlag != "" {
		var err error
		if retain, err = moment.Age(*retainFlag); err != nil {
			return usagef("--retain: %v", err)
		}
	}
	if *progress < 0 || *group == "" || *writers < 1 {
		return usagef("--progress must not be negative, --group not empty and --writers at least 1")
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	topics, err := f.topicList()
	if err != nil {
		return err
	}
	dec, err := f.decoder()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	store, err := openDB(ctx, *db, true)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	defer store.Close()
	if retain > 0 {
		go retainLoop(ctx, store, retain, stderr)
	}
	var rejected atomic.Int64
	say := func(msg string) { fmt.Fprintf(stderr, "%s: record: %s\n", prog, msg) }
	reader := kafka.NewGroupReader(kafka.GroupConfig{
		Options: opts, Group: *group, Topics: topics, UntilCaughtUp: *caughtUp, OnState: say, Writers: *writers,
		Resume: func(ctx context.Context, _ []kafka.TopicPartition) (map[kafka.TopicPartition]int64, error) {
			stored, err := store.Offsets(ctx, *group)
			out := make(map[kafka.TopicPartition]int64, len(stored))
			for tp, next := range stored {
				out[kafka.TopicPartition(tp)] = next
			}
			return out, err
		},
		// Each partition's goroutine decodes its records as it reads them,
		// while the batch before is being written.
		Prepare: func(recs []model.Record) any {
			hb := batchOf(dec, recs)
			return &hb
		},
		Write: func(ctx context.Context, b kafka.Batch) error {
			hb := joinBatches(b.Prepared)
			err := store.Write(ctx, *group, hb)
			if errors.Is(err, history.ErrAlreadyWritten) {
				// Another member stored these: rejoin and resume from the database.
				return fmt.Errorf("%w: %w", kafka.ErrFenced, err)
			}
			if err == nil {
				rejected.Add(int64(len(hb.Rejected)))
			}
			return err
		},
	})
	if *progress > 0 {
		go printProgress(ctx, stderr, *progress, reader)
	}
	runErr := reader.Run(ctx)
	p := reader.Progress()
	sum := recordSummary{Recorded: map[string]int64{}, Rejected: rejected.Load()}
	for _, k := range model.Kinds {
		sum.Recorded[k.String()] = p.Written[k]
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintf(stderr, "%s\n", line)
	if runErr != nil {
		if errors.Is(runErr, kafka.ErrUnreachable) {
			return fmt.Errorf("record: %w; %s", runErr, connectHint(runErr))
		}
		return fmt.Errorf("record: %w", runErr)
	}
	return nil
}

// batchOf decodes a batch of records into the rows and rejections the
// database stores.
func batchOf(dec *codec.Decoder, recs []model.Record) history.Batch {
	var (
		hb  history.Batch
		evs []model.Event
	)
	for _, rec := range recs {
		var err error
		evs, err = dec.DecodeAll(rec, evs[:0])
		hb.Add(rec, evs, err)
	}
	return hb
}

// joinBatches makes one batch of the chunks' batches that Prepare made.
func joinBatches(parts []any) history.Batch {
	if len(parts) == 1 {
		return *parts[0].(*history.Batch)
	}
	var n int
	for _, p := range parts {
		n += len(p.(*history.Batch).Positions)
	}
	hb := history.Batch{Positions: make([]history.Position, 0, n)}
	for _, p := range parts {
		hb.Append(p.(*history.Batch))
	}
	return hb
}

// retainLoop drops old history at start and then every hour.
func retainLoop(ctx context.Context, store *history.Store, older time.Duration, stderr io.Writer) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if _, err := store.Retain(ctx, older); err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "%s: record: retention: %v\n", prog, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// printProgress says, while catching up, how fast rows are stored and how
// far each stream is behind.
func printProgress(ctx context.Context, stderr io.Writer, every time.Duration, reader *kafka.GroupReader) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	var last int64
	lastAt := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			p := reader.Progress()
			var total int64
			for _, n := range p.Written {
				total += n
			}
			rate := float64(total-last) / now.Sub(lastAt).Seconds()
			last, lastAt = total, now
			fmt.Fprintf(stderr, "%s: record: %.0f rows/s · %d partitions · lag vehicles %d, stations %d, weather %d\n",
				prog, rate, len(p.Assigned), p.Lag[model.KindVehicles], p.Lag[model.KindStations], p.Lag[model.KindWeather])
		}
	}
}
