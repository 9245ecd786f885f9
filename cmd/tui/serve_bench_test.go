package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

// procStats reads a process's CPU time (user+system) and resident memory.
func procStats(b *testing.B, pid int) (cpu time.Duration, rssKB int64) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	cpu = time.Duration(utime+stime) * time.Second / 100 // USER_HZ is 100 on Linux
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			rssKB, _ = strconv.ParseInt(strings.Fields(line)[1], 10, 64)
		}
	}
	return cpu, rssKB
}

// BenchmarkServeViewers measures `fleetwatch serve --demo` (its own process)
// with 0, 1, 10 and 50 viewers on 120×40 terminals over real SSH sessions:
// the server's CPU (share of one core), its resident memory, and the bytes
// each viewer receives per second. The 0-viewer case is the demo's own cost
// (simulator, embedded broker, consumer).
func BenchmarkServeViewers(b *testing.B) {
	bin := testutil.Binary(b, "./cmd/tui", "fleetwatch")
	dir := b.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := gossh.NewSignerFromKey(priv)
	sshPub, _ := gossh.NewPublicKey(pub)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), gossh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		b.Fatal(err)
	}
	addr := testutil.FreeAddr(b)
	cmd := exec.Command(bin, "serve", "--demo", "--listen", addr, "--host-key", filepath.Join(dir, "host"),
		"--authorized-keys", filepath.Join(dir, "authorized_keys"), "--log", filepath.Join(dir, "log"))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	config := &gossh.ClientConfig{User: "bench", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 5 * time.Second}
	testutil.Eventually(b, 15*time.Second, "server", func() bool {
		c, err := gossh.Dial("tcp", addr, config)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	for _, n := range []int{0, 1, 10, 50} {
		b.Run(fmt.Sprintf("viewers=%d", n), func(b *testing.B) {
			var received atomic.Int64
			var clients []*gossh.Client
			var wg sync.WaitGroup
			for range n {
				c, err := gossh.Dial("tcp", addr, config)
				if err != nil {
					b.Fatal(err)
				}
				clients = append(clients, c)
				sess, err := c.NewSession()
				if err != nil {
					b.Fatal(err)
				}
				if err := sess.RequestPty("xterm-256color", 40, 120, gossh.TerminalModes{}); err != nil {
					b.Fatal(err)
				}
				out, _ := sess.StdoutPipe()
				if err := sess.Shell(); err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					buf := make([]byte, 32<<10)
					for {
						k, err := out.Read(buf)
						received.Add(int64(k))
						if err == io.EOF || err != nil {
							return
						}
					}
				}()
			}
			time.Sleep(2 * time.Second) // let every viewer get its first full screens
			const window = 5 * time.Second
			for b.Loop() {
				cpu0, _ := procStats(b, cmd.Process.Pid)
				bytes0 := received.Load()
				start := time.Now()
				time.Sleep(window)
				cpu1, rss := procStats(b, cmd.Process.Pid)
				el := time.Since(start).Seconds()
				b.ReportMetric(100*(cpu1-cpu0).Seconds()/el, "cpu_%")
				b.ReportMetric(float64(rss)/1024, "rss_MB")
				if n > 0 {
					b.ReportMetric(float64(received.Load()-bytes0)/el/float64(n), "bytes/viewer/s")
				}
			}
			for _, c := range clients {
				c.Close()
			}
			wg.Wait()
		})
	}
}
