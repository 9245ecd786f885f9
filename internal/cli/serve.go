package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/fleetwatch/fleetwatch/internal/kafka"
	"github.com/fleetwatch/fleetwatch/internal/serve"
)

func defaultHostKey() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = "."
	}
	return filepath.Join(dir, "fleetwatch", "fleetwatch_host_ed25519")
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := pflag.NewFlagSet(prog+" serve", pflag.ContinueOnError)
	var f watchFlags
	f.register(fs, "latest")
	listen := fs.String("listen", "127.0.0.1:2222", "SSH listen address")
	hostKey := fs.String("host-key", defaultHostKey(), "the server's private host key; created (mode 0600) if missing")
	authKeys := fs.String("authorized-keys", "", "OpenSSH authorized_keys file: only these keys may log in")
	noAuth := fs.Bool("insecure-no-auth", false, "let anyone log in without a key (for a closed network only)")
	maxSessions := fs.Int("max-sessions", 64, "concurrent viewers")
	idle := fs.Duration("idle-timeout", 30*time.Minute, "log a viewer out after this long without a key press; 0 never")
	logFile := fs.String("log", "", "write the structured log (logins, refusals, sessions) to this file instead of stderr")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("serve: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *authKeys == "" && !*noAuth:
		return usagef("serve: --authorized-keys is required (or --insecure-no-auth on a closed network)")
	case *authKeys != "" && *noAuth:
		return usagef("serve: give --authorized-keys or --insecure-no-auth, not both")
	case *maxSessions < 1:
		return usagef("serve: --max-sessions must be at least 1")
	case *idle < 0:
		return usagef("serve: --idle-timeout must not be negative")
	}
	logOut := stderr
	if *logFile != "" {
		lf, err := os.OpenFile(*logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("serve: open log %s: %w", *logFile, err)
		}
		defer lf.Close()
		logOut = lf
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil))
	if err := os.MkdirAll(filepath.Dir(*hostKey), 0o700); err != nil {
		return fmt.Errorf("serve: host key directory: %w", err)
	}

	w, err := f.setupWith(false, withAlerts)
	if err != nil {
		return err
	}
	defer w.close()
	// Warned only once every flag is known good, so that a usage error is
	// the only line a mistyped command prints.
	if *noAuth {
		fmt.Fprintf(stderr, "%s: warning: --insecure-no-auth: anyone who reaches %s can watch the fleet\n", prog, *listen)
		log.Warn("serving without authentication", "listen", *listen)
	}
	w.cfg.Retry = true
	consumer := kafka.NewConsumer(w.cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		consumer.Run(ctx)
	}()
	srv, err := serve.New(serve.Config{Listen: *listen, HostKey: *hostKey, AuthorizedKeys: *authKeys,
		InsecureNoAuth: *noAuth, MaxSessions: *maxSessions, IdleTimeout: *idle, Stale: f.stale, Window: f.window, Network: w.net, Basemap: w.base, Title: w.title,
		Source: liveSource{store: w.store, consumer: consumer, demo: w.demo != nil, notice: w.notice, named: w.named}, Log: log})
	if err != nil {
		stop()
		<-consumed
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("serving", "addr", srv.Addr(), "brokers", consumer.Status().Brokers, "max_sessions", *maxSessions)
	fmt.Fprintf(stderr, "%s: serving on %s; stop with Ctrl-C\n", prog, srv.Addr())
	err = srv.Serve(ctx)
	stop()
	<-consumed
	return err
}
