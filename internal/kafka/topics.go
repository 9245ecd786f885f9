package kafka

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"

	"github.com/fleetwatch/fleetwatch/internal/model"
)

// MissingTopic is a topic named in a topic flag that the cluster does not
// have. It is still watched, since it may be created later; Suggest helps
// with the more likely case, a typo.
type MissingTopic struct {
	Kind    model.Kind
	Name    string
	Suggest []string // existing topics with a close name, closest first; at most maxSuggestions
}

// String says what is missing and what was probably meant, e.g.
// "busDta not found; did you mean busData?".
func (m MissingTopic) String() string {
	s := m.Name + " not found"
	switch n := len(m.Suggest); n {
	case 0:
		return s
	case 1:
		return s + "; did you mean " + m.Suggest[0] + "?"
	default:
		return s + "; did you mean " + strings.Join(m.Suggest[:n-1], ", ") + " or " + m.Suggest[n-1] + "?"
	}
}

// maxSuggestions bounds MissingTopic.Suggest: past three, a list of names
// reads as noise rather than help.
const maxSuggestions = 3

// SuggestTopics returns up to three of the existing topics whose names are
// close to name: equal but for case and punctuation (bus_data for busData),
// or within max(2, len/3) edits (Levenshtein distance, case insensitive),
// where len is the length of the part of name that differs from the
// candidate: a namespace the names share ("org.city.") must not widen the
// limit until sibling topics pass for typos. Fewer edits than name has
// characters, too, so that a short name is not "corrected" into an
// unrelated one. The closest come first; internal topics are never offered.
func SuggestTopics(name string, existing []string) []string {
	type candidate struct {
		name string
		dist int
	}
	lower, folded := strings.ToLower(name), foldName(name)
	n := utf8.RuneCountInString(name)
	var found []candidate
	for _, e := range existing {
		if e == name || internalTopic(e) {
			continue
		}
		other := strings.ToLower(e)
		d := levenshtein.ComputeDistance(lower, other)
		if folded != "" && foldName(e) == folded {
			// Same letters and digits: only case and separators differ, which
			// is nearer than any typo however many separators there are.
			d = 0
		}
		if d <= min(max(2, differing(lower, other)/3), n-1) {
			found = append(found, candidate{e, d})
		}
	}
	slices.SortFunc(found, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), cmp.Compare(a.name, b.name))
	})
	var out []string
	for _, c := range found[:min(len(found), maxSuggestions)] {
		out = append(out, c.name)
	}
	return out
}

// differing returns how many runes of a are left once the prefix and the
// suffix it shares with b are taken away.
func differing(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	p := 0
	for p < len(ra) && p < len(rb) && ra[p] == rb[p] {
		p++
	}
	s := 0
	for s < len(ra)-p && s < len(rb)-p && ra[len(ra)-1-s] == rb[len(rb)-1-s] {
		s++
	}
	return len(ra) - p - s
}

// foldName keeps only the letters and digits of a name, lower-cased.
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// internalTopic tells the topics that Kafka and its usual companions keep
// for themselves (consumer offsets, transactions, Confluent's metrics and
// schema registry, Kafka Connect's state): never data to show or suggest.
func internalTopic(name string) bool {
	switch {
	case strings.HasPrefix(name, "__"), strings.HasPrefix(name, "_confluent"), name == "_schemas":
		return true
	case strings.HasPrefix(name, "connect-"):
		return strings.HasSuffix(name, "configs") || strings.HasSuffix(name, "offsets") || strings.HasSuffix(name, "status")
	}
	return false
}

// missingTopics lists the named topics that are not among the existing ones,
// each with its suggestions, in the order of the topic flags.
func missingTopics(named []Topic, existing []string) []MissingTopic {
	var out []MissingTopic
	seen := map[string]bool{}
	for _, t := range named {
		if t.Pattern != nil || seen[t.Name] || slices.Contains(existing, t.Name) {
			continue
		}
		seen[t.Name] = true
		out = append(out, MissingTopic{Kind: t.Kind, Name: t.Name, Suggest: SuggestTopics(t.Name, existing)})
	}
	return out
}
