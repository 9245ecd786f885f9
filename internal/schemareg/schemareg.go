// Package schemareg reads Avro writer schemas from a Confluent-compatible
// schema registry (Confluent, Redpanda, Karapace, Apicurio's ccompat API)
// by their ids, and caches them for the decoder.
package schemareg

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// How long an answer is kept. A schema never changes under its id, so a
// found one is kept for good. An id the registry does not know may be
// registered soon after, so that answer is asked again after a while; a
// registry that did not answer is left alone for a few seconds, so that a
// stream of records does not wait on it one by one.
const (
	notFoundTTL    = 30 * time.Second
	unreachableTTL = 5 * time.Second
	requestTimeout = 5 * time.Second
)

// Registry is a schema registry client with a cache. It implements
// codec.SchemaSource and is safe for concurrent use.
type Registry struct {
	url    string
	client *sr.Client
	now    func() time.Time

	mu    sync.Mutex
	cache map[uint32]entry
}

type entry struct {
	schema avro.Schema
	err    error
	until  time.Time // for errors: ask again after this
}

// New returns a client of the registry at rawURL (http or https, with user
// info for basic authentication if the registry wants it).
func New(rawURL string) (*Registry, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("schema registry %q: want an http:// or https:// URL", rawURL)
	}
	opts := []sr.ClientOpt{sr.HTTPClient(&http.Client{Timeout: requestTimeout})}
	if u.User != nil {
		pass, _ := u.User.Password()
		opts = append(opts, sr.BasicAuth(u.User.Username(), pass))
		u.User = nil
	}
	opts = append(opts, sr.URLs(u.String()))
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry %s: %w", u.Redacted(), err)
	}
	return &Registry{url: u.String(), client: cl, now: time.Now, cache: map[uint32]entry{}}, nil
}

// AvroSchema returns the parsed Avro schema registered under id.
func (r *Registry) AvroSchema(id uint32) (avro.Schema, error) {
	now := r.now()
	r.mu.Lock()
	e, ok := r.cache[id]
	r.mu.Unlock()
	if ok && (e.err == nil || now.Before(e.until)) {
		return e.schema, e.err
	}
	// Fetched outside the lock: other ids need not wait on this one. Two
	// goroutines may fetch the same id at once; both get the same answer.
	e = r.fetch(id)
	r.mu.Lock()
	r.cache[id] = e
	r.mu.Unlock()
	return e.schema, e.err
}

func (r *Registry) fetch(id uint32) entry {
	now := r.now()
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s, err := r.client.SchemaByID(ctx, int(id))
	if err != nil {
		var re *sr.ResponseError
		if errors.As(err, &re) && (re.ErrorCode == sr.ErrSchemaNotFound.Code || re.StatusCode == http.StatusNotFound) {
			return entry{err: fmt.Errorf("unknown to the schema registry at %s", r.url), until: now.Add(notFoundTTL)}
		}
		if errors.As(err, &re) {
			return entry{err: fmt.Errorf("schema registry at %s answered %d: %s", r.url, re.StatusCode, re.Message), until: now.Add(unreachableTTL)}
		}
		return entry{err: fmt.Errorf("schema registry at %s is unreachable: %w", r.url, err), until: now.Add(unreachableTTL)}
	}
	if s.Type != sr.TypeAvro {
		return entry{err: fmt.Errorf("a %s schema; only Avro is read", s.Type), until: now.Add(notFoundTTL)}
	}
	if len(s.References) > 0 {
		return entry{err: errors.New("the schema references other subjects, which is not supported"), until: now.Add(notFoundTTL)}
	}
	// A cache of its own per schema: two schemas may name a type alike.
	parsed, err := avro.ParseWithCache(s.Schema, "", &avro.SchemaCache{})
	if err != nil {
		return entry{err: fmt.Errorf("registered schema does not parse: %w", err), until: now.Add(notFoundTTL)}
	}
	return entry{schema: parsed}
}
