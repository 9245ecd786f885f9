package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/alert"
	"github.com/fleetwatch/fleetwatch/internal/ingest"
	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/model"
)

// alertFlags are the detector's thresholds, each a flag with the default
// of OPERATIONS.md.
type alertFlags struct {
	cfg   alert.Config
	stale time.Duration
}

func (a *alertFlags) register(fs *pflag.FlagSet) {
	a.cfg = alert.DefaultConfig()
	fs.Float64Var(&a.cfg.OffRouteM, "off-route", a.cfg.OffRouteM, "metres from its line's geometry that make a vehicle off route")
	fs.DurationVar(&a.cfg.NoProgressAfter, "no-progress", a.cfg.NoProgressAfter, "how long a vehicle in service may move less than --no-progress-m")
	fs.Float64Var(&a.cfg.NoProgressM, "no-progress-m", a.cfg.NoProgressM, "metres a vehicle must move within --no-progress")
	fs.Float64Var(&a.cfg.EarlyS, "early", a.cfg.EarlyS, "seconds ahead of schedule (delay_s below minus this) that are early")
	fs.Float64Var(&a.cfg.LateS, "late", a.cfg.LateS, "seconds behind schedule that are late")
	fs.Float64Var(&a.cfg.Bunched, "bunched", a.cfg.Bunched, "headway under this share of the line's target is bunched")
	fs.Float64Var(&a.cfg.Gapped, "gapped", a.cfg.Gapped, "headway over this share of the line's target is a gap")
	fs.DurationVar(&a.stale, "stale-after", a.cfg.Stale, "a vehicle silent this long while its line reports is stale")
	fs.DurationVar(&a.cfg.FeedSilent, "feed-silent", a.cfg.FeedSilent, "a topic or line silent this long is a silent feed")
}

// config is the detector's configuration with the --zones geofences.
func (a *alertFlags) config(w *watch) *alert.Config {
	cfg := a.cfg
	cfg.Stale = a.stale
	cfg.Zones = w.zones
	cfg.Forget = w.expire
	return &cfg
}

func (a *alertFlags) validate() error {
	c := a.cfg
	if c.OffRouteM <= 0 || c.NoProgressM <= 0 || c.NoProgressAfter <= 0 || c.EarlyS <= 0 || c.LateS <= 0 ||
		a.stale <= 0 || c.FeedSilent <= 0 || c.Bunched <= 0 || c.Gapped <= c.Bunched {
		return usagef("alert thresholds must be positive, and --gapped above --bunched")
	}
	return nil
}

// alertLine is how an alert is printed and produced: the contract's shape.
func alertLine(a alert.Alert) ([]byte, error) { return json.Marshal(a) }

// alertKey keys an alert on its topic: by vehicle, else by line, else by stream.
func alertKey(a alert.Alert) string {
	switch {
	case a.VehicleID != "":
		return a.VehicleID
	case a.Line != "":
		return a.Line
	}
	return a.Stream
}

func runAlerts(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet(prog+" alerts", pflag.ContinueOnError)
	var f watchFlags
	f.register(fs, "latest")
	var af alertFlags
	af.register(fs)
	after := fs.Duration("after", 0, "judge for this long, then exit")
	caughtUp := fs.Bool("until-caught-up", false, "judge what the topics hold, then exit")
	toTopic := fs.String("to-topic", "", "also produce each alert to this Kafka topic, keyed by vehicle or line")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("alerts: unexpected argument %q", fs.Arg(0))
	}
	if err := af.validate(); err != nil {
		return err
	}
	if *after < 0 || *after > 0 && *caughtUp {
		return usagef("give --after D or --until-caught-up, not both")
	}
	if *caughtUp && !fs.Changed("from") {
		f.from = "earliest" // judging what the topics hold means all of it
	}
	// Alerts go through a channel so that the store's lock is never held
	// while stdout or Kafka is slow; a full channel holds the ingest back
	// rather than lose an alert.
	out := make(chan []alert.Alert, 256)
	w, err := f.setupWith(true, func(o *ingest.Options, w *watch) {
		o.Alerts = af.config(w)
		o.OnAlert = func(as []alert.Alert) { out <- append([]alert.Alert(nil), as...) }
	})
	if err != nil {
		return err
	}
	defer w.close()
	var producer *kafka.Producer
	if *toTopic != "" {
		if producer, err = kafka.NewProducer(w.cfg.Options, map[model.Kind]string{model.KindVehicles: *toTopic}); err != nil {
			return fmt.Errorf("alerts: --to-topic: %w", err)
		}
	}
	w.cfg.UntilCaughtUp = *caughtUp
	w.cfg.Retry = !*caughtUp
	w.cfg.ConnectTimeout = 10 * time.Second
	consumer := kafka.NewConsumer(w.cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *after > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *after)
		defer cancel()
	}
	printed := make(chan error, 1)
	go func() { printed <- printAlerts(out, stdout, producer) }()
	// The data's clock moves on with the wall clock while nothing arrives,
	// so that a feed falling silent is noticed.
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				w.store.TickAlerts(now)
			}
		}
	}()
	runErr := consumer.Run(ctx)
	if runErr == nil && *caughtUp {
		w.store.FlushAlerts(time.Now())
	}
	stop()
	close(out)
	printErr := <-printed
	if producer != nil {
		if err := producer.Close(); err != nil && printErr == nil {
			printErr = fmt.Errorf("alerts: --to-topic: %w", err)
		}
	}
	switch {
	case runErr != nil && errors.Is(runErr, kafka.ErrUnreachable):
		return fmt.Errorf("alerts: %w; %s", runErr, connectHint(runErr))
	case runErr != nil:
		return fmt.Errorf("alerts: %w", runErr)
	}
	return printErr
}

// printAlerts writes each alert as a JSON line, and produces it when asked.
func printAlerts(in <-chan []alert.Alert, stdout io.Writer, producer *kafka.Producer) error {
	bw := bufio.NewWriter(stdout)
	var failed error
	for batch := range in {
		for _, a := range batch {
			line, err := alertLine(a)
			if err != nil {
				return fmt.Errorf("alerts: encode: %w", err)
			}
			bw.Write(line)
			bw.WriteByte('\n')
			if producer != nil {
				producer.Send(model.KindVehicles, alertKey(a), line)
			}
		}
		if err := bw.Flush(); err != nil && failed == nil {
			failed = fmt.Errorf("alerts: write: %w", err)
		}
	}
	return failed
}
