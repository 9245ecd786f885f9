package schemareg

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/sr"
	"github.com/twmb/franz-go/pkg/sr/srfake"

	"github.com/fleetwatch/fleetwatch/internal/testutil"
)

const schema = `{"type":"record","name":"Position","fields":[{"name":"vehicle_id","type":"string"}]}`

// The registry double is franz-go's srfake, a Confluent-compatible
// registry in memory; an interceptor counts the requests that reach it.
func newRegistry(t *testing.T) (*srfake.Registry, *atomic.Int32) {
	t.Helper()
	fake := srfake.New()
	t.Cleanup(fake.Close)
	var gets atomic.Int32
	fake.Intercept(func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		return false
	})
	return fake, &gets
}

func TestSchemaByIDIsCached(t *testing.T) {
	fake, gets := newRegistry(t)
	id, _, err := fake.RegisterSchema("fleet.vehicles-value", sr.Schema{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := New(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		s, err := reg.AvroSchema(uint32(id))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(s.String(), "vehicle_id") {
			t.Fatalf("schema %s", s)
		}
	}
	if n := gets.Load(); n != 1 {
		t.Fatalf("%d requests for one schema, want 1", n)
	}
}

func TestUnknownIDsAndOtherTypes(t *testing.T) {
	fake, gets := newRegistry(t)
	protoID, _, err := fake.RegisterSchema("p-value", sr.Schema{Schema: `syntax = "proto3"; message M { string a = 1; }`, Type: sr.TypeProtobuf})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := New(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	reg.now = func() time.Time { return now }
	if _, err := reg.AvroSchema(999); err == nil || !strings.Contains(err.Error(), "unknown to the schema registry at "+fake.URL()) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := reg.AvroSchema(999); err == nil || gets.Load() != 1 {
		t.Fatalf("unknown id asked again at once (%d requests): %v", gets.Load(), err)
	}
	// Registered later, it is found once the answer has aged.
	now = now.Add(notFoundTTL + time.Second)
	if _, err := reg.AvroSchema(999); err == nil || gets.Load() != 2 {
		t.Fatalf("unknown id not asked again after %v (%d requests)", notFoundTTL, gets.Load())
	}
	if _, err := reg.AvroSchema(uint32(protoID)); err == nil || !strings.Contains(err.Error(), "PROTOBUF schema; only Avro") {
		t.Fatalf("protobuf schema: %v", err)
	}
}

func TestRegistryDown(t *testing.T) {
	addr := testutil.FreeAddr(t) // nothing listens there
	reg, err := New("http://" + addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.AvroSchema(1); err == nil || !strings.Contains(err.Error(), "is unreachable") {
		t.Fatalf("registry down: %v", err)
	}
}

func TestNewChecksTheURL(t *testing.T) {
	for _, u := range []string{"", "localhost:8081", "ftp://x", "http://"} {
		if _, err := New(u); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	reg, err := New("https://user:secret@registry.example:8081/base")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(reg.url, "secret") {
		t.Errorf("the password shows in error messages: %s", reg.url)
	}
}
