// Package tap is a minimal TAP 13 writer with the calls the runtime-tools
// validation programs make. Debian ships no package for
// github.com/mndrix/tap-go, so a GOPATH build without the upstream vendor
// directory finds this one (ocitool's own code, not a copy of upstream).
package tap

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// T writes one TAP stream.
type T struct {
	next   int
	TODO   bool
	Writer io.Writer
}

// New returns a stream on stdout.
func New() *T { return &T{next: 1, Writer: os.Stdout} }

func (t *T) printf(format string, a ...interface{}) { fmt.Fprintf(t.Writer, format, a...) }

// Header prints the version line and, when n > 0, the plan.
func (t *T) Header(n int) {
	t.printf("TAP version 13\n")
	if n > 0 {
		t.printf("1..%d\n", n)
	}
}

// Ok reports one result.
func (t *T) Ok(test bool, description string) {
	word := "ok"
	if !test {
		word = "not ok"
	}
	if t.TODO {
		t.printf("%s %d # TODO %s\n", word, t.next, description)
	} else {
		t.printf("%s %d - %s\n", word, t.next, description)
	}
	t.next++
}

// Pass reports a passing result.
func (t *T) Pass(description string) { t.Ok(true, description) }

// Fail reports a failing result.
func (t *T) Fail(description string) { t.Ok(false, description) }

// Skip reports count skipped results.
func (t *T) Skip(count int, description string) {
	for i := 0; i < count; i++ {
		t.printf("ok %d # SKIP %s\n", t.next, description)
		t.next++
	}
}

// Count is how many results were reported.
func (t *T) Count() int { return t.next - 1 }

// AutoPlan prints the plan from the count.
func (t *T) AutoPlan() { t.printf("1..%d\n", t.Count()) }

func comment(s string) string {
	return strings.Replace(strings.TrimRight(s, "\n"), "\n", "\n# ", -1)
}

// Diagnostic prints a comment.
func (t *T) Diagnostic(message string) { t.printf("# %s\n", comment(message)) }

// Diagnosticf prints a formatted comment.
func (t *T) Diagnosticf(format string, a ...interface{}) {
	t.Diagnostic(fmt.Sprintf(format, a...))
}

// YAML prints a diagnostic block; JSON is valid YAML, so no YAML library is needed.
func (t *T) YAML(message interface{}) error {
	b, err := json.MarshalIndent(message, "  ", "  ")
	if err != nil {
		return err
	}
	t.printf("  ---\n  %s\n  ...\n", string(b))
	return nil
}
