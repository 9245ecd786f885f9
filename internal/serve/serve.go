// Package serve offers the live screen to many viewers over SSH: one shared
// fleet state, one Bubble Tea program per session, public-key logins against
// an OpenSSH authorized_keys file.
package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"github.com/fleetwatch/fleetwatch/internal/basemap"
	"github.com/fleetwatch/fleetwatch/internal/network"
	"github.com/fleetwatch/fleetwatch/internal/ui"
)

// Config is what the server needs.
type Config struct {
	Listen         string
	HostKey        string // private key path; created (0600) when missing
	AuthorizedKeys string // OpenSSH authorized_keys; "" with InsecureNoAuth only
	InsecureNoAuth bool
	MaxSessions    int
	IdleTimeout    time.Duration // a viewer who presses no key for this long is logged out; 0 never
	Stale          time.Duration
	Window         time.Duration // the station board's rolling window
	Network        *network.Network
	Basemap        *basemap.Basemap // outlines under the map; nil for none
	Title          string           // what the header names ("" for the network's name)
	Source         ui.Source        // the shared fleet state every viewer reads
	Log            *slog.Logger
}

// Server is a running SSH server.
type Server struct {
	cfg      Config
	srv      *ssh.Server
	keys     *authorizedKeys
	active   atomic.Int64
	mu       sync.Mutex
	programs map[*tea.Program]struct{}
	sessions map[ssh.Session]sessionInfo
	listener net.Listener
}

// sessionInfo is what the log says about a session when it ends.
type sessionInfo struct {
	user, addr, key string
	start           time.Time
}

func (s *Server) logEnd(i sessionInfo, reason string) {
	s.cfg.Log.Info("session end", "user", i.user, "addr", i.addr, "key", i.key,
		"duration", time.Since(i.start).Round(time.Millisecond).String(), "reason", reason)
}

// New prepares the server and binds its address, so that a bad address or
// host key fails before anything is served.
func New(cfg Config) (*Server, error) {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 64
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, programs: map[*tea.Program]struct{}{}, sessions: map[ssh.Session]sessionInfo{}}
	opts := []ssh.Option{
		wish.WithAddress(cfg.Listen),
		wish.WithHostKeyPath(cfg.HostKey),
		wish.WithMiddleware(
			bubbletea.MiddlewareWithProgramHandler(s.program, termenv.Ascii),
			s.limit, // runs first: the last middleware given wraps the others
		),
	}
	if !cfg.InsecureNoAuth {
		keys, err := loadAuthorizedKeys(cfg.AuthorizedKeys)
		if err != nil {
			return nil, err
		}
		s.keys = keys
		opts = append(opts, wish.WithPublicKeyAuth(s.authorize))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	srv.ConnectionFailedCallback = func(conn net.Conn, err error) {
		// Refused handshakes, key-less logins among them, end here.
		s.cfg.Log.Warn("connection refused", "addr", conn.RemoteAddr().String(), "err", err.Error())
	}
	s.srv = srv
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	s.listener = l
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Serve accepts viewers until ctx ends, then ends every session cleanly.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.listener) }()
	select {
	case err := <-errc:
		if errors.Is(err, ssh.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("ssh server: %w", err)
	case <-ctx.Done():
	}
	s.mu.Lock()
	for p := range s.programs {
		p.Quit() // each viewer's terminal is restored by its program
	}
	s.mu.Unlock()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(shutdown); err != nil {
		// A viewer that stopped reading holds its session open: cut the
		// connections, then give the handlers a moment to log their end.
		s.srv.Close()
		for deadline := time.Now().Add(2 * time.Second); s.active.Load() > 0 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Sessions whose handler is still stuck on a dead connection end with
	// the process: say so, so every start in the log has its end.
	s.mu.Lock()
	for sess, info := range s.sessions {
		s.logEnd(info, "server stopped")
		delete(s.sessions, sess)
	}
	s.mu.Unlock()
	s.cfg.Log.Info("server stopped")
	return nil
}

func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	fp := gossh.FingerprintSHA256(key)
	ok, err := s.keys.allows(key)
	if err != nil {
		s.cfg.Log.Error("authorized keys unreadable; refusing every login", "file", s.cfg.AuthorizedKeys, "err", err)
	}
	if !ok {
		s.cfg.Log.Warn("login refused", "user", ctx.User(), "addr", ctx.RemoteAddr().String(), "key", fp)
		return false
	}
	ctx.SetValue(fingerprintKey{}, fp)
	return true
}

type fingerprintKey struct{}

// limit turns viewers away above the session limit and logs each session.
func (s *Server) limit(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		fp, _ := sess.Context().Value(fingerprintKey{}).(string)
		addr := sess.RemoteAddr().String()
		if n := s.active.Add(1); n > int64(s.cfg.MaxSessions) {
			s.active.Add(-1)
			s.cfg.Log.Warn("session refused: too many viewers", "addr", addr, "key", fp, "max", s.cfg.MaxSessions)
			wish.Fatalln(sess, fmt.Sprintf("fleetwatch: too many viewers (%d); try again later", s.cfg.MaxSessions))
			return
		}
		info := sessionInfo{user: sess.User(), addr: addr, key: fp, start: time.Now()}
		s.mu.Lock()
		s.sessions[sess] = info
		s.mu.Unlock()
		s.cfg.Log.Info("session start", "user", info.user, "addr", addr, "key", fp)
		defer func() {
			s.active.Add(-1)
			s.mu.Lock()
			_, open := s.sessions[sess]
			delete(s.sessions, sess)
			s.mu.Unlock()
			if open {
				s.logEnd(info, "closed")
			}
		}()
		next(sess)
	}
}

// program makes each viewer's own screen: own size, colour profile, zoom
// and help state, over the one shared fleet state.
func (s *Server) program(sess ssh.Session) *tea.Program {
	if _, _, ok := sess.Pty(); !ok {
		wish.Fatalln(sess, "fleetwatch: a terminal is needed; connect with ssh -t")
		return nil
	}
	profile := colourProfile(sess)
	m := ui.New(s.cfg.Source, s.cfg.Network, profile, s.cfg.Stale).WithIdleTimeout(s.cfg.IdleTimeout).WithWindow(s.cfg.Window).
		WithBasemap(s.cfg.Basemap, s.cfg.Title)
	p := tea.NewProgram(m, append(bubbletea.MakeOptions(sess), tea.WithAltScreen(), tea.WithMouseCellMotion())...)
	s.mu.Lock()
	s.programs[p] = struct{}{}
	s.mu.Unlock()
	go func() {
		<-sess.Context().Done()
		s.mu.Lock()
		delete(s.programs, p)
		s.mu.Unlock()
	}()
	return p
}

// colourProfile is the colours the viewer's terminal shows, from the TERM
// and COLORTERM its client sent. It does not ask the terminal, as wish's
// renderer (bubbletea.MakeRenderer) does: that asks for the background
// colour and then waits, on the emulated pty, with no timeout, for an
// answer that a terminal which ignores the query never sends, and the
// viewer saw a blank screen for good. The screen uses no colour that
// depends on the background.
func colourProfile(sess ssh.Session) termenv.Profile {
	pty, _, ok := sess.Pty()
	if !ok || pty.Term == "" || pty.Term == "dumb" {
		return termenv.Ascii
	}
	env := sshEnviron(append(sess.Environ(), "TERM="+pty.Term))
	return termenv.NewOutput(io.Discard, termenv.WithEnvironment(env), termenv.WithUnsafe()).EnvColorProfile()
}

// sshEnviron is a session's environment, for termenv.
type sshEnviron []string

// Environ returns the variables as KEY=value.
func (e sshEnviron) Environ() []string { return e }

// Getenv returns a variable's value; the last of its name wins, as TERM
// appended after the client's own does.
func (e sshEnviron) Getenv(key string) string {
	v := ""
	for _, kv := range e {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// Active returns the number of sessions open now.
func (s *Server) Active() int { return int(s.active.Load()) }
