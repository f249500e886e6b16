package zoomtest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// Fault is a kind of injected failure.
type Fault string

// Faults the emulator can inject.
const (
	Fault500      Fault = "500"      // 500 with a JSON body
	Fault502      Fault = "502"      // 502 from a "gateway", HTML body
	Fault503      Fault = "503"      // 503, HTML body
	Fault504      Fault = "504"      // 504, HTML body
	FaultReset    Fault = "reset"    // the connection is reset half-way through the body (needs a real connection)
	FaultTruncate Fault = "truncate" // 200 whose JSON body is cut short (Content-Length matches the cut)
	FaultGarble   Fault = "garble"   // 200 whose JSON body has bytes overwritten
	FaultSlow     Fault = "slow"     // the response is delayed by SlowDelay of real time
	FaultRevoke   Fault = "revoke"   // the token is revoked before its expiry: 401 code 124
)

var allFaults = []Fault{Fault500, Fault502, Fault503, Fault504, FaultReset, FaultTruncate, FaultGarble, FaultSlow, FaultRevoke}

// Faults configures injected failures. Decisions are deterministic: they
// depend on the seed, the endpoint and how many requests that endpoint has
// served, not on timing.
//
// Endpoints are named by method and route as Zoom documents them, without
// the /v2 prefix: "GET /users/{userId}/recordings",
// "GET /phone/users/{userId}/call_history", "GET /rec/download/{fileId}".
type Faults struct {
	// Rates gives, per fault, the probability that an API or download
	// request gets it. Faults are tried in the order of allFaults.
	Rates map[Fault]float64 `json:"rates,omitempty"`
	// Endpoints replaces Rates for the named endpoints.
	Endpoints map[string]map[Fault]float64 `json:"endpoints,omitempty"`
	// Script lists the faults of the next requests to an endpoint, in
	// order, one per request ("" for none); the key "*" matches any
	// endpoint. Scripts run before rates and are consumed.
	Script map[string][]Fault `json:"script,omitempty"`
	// SlowDelay is the delay of FaultSlow; default 3s.
	SlowDelay time.Duration `json:"-"`
}

// MarshalJSON writes SlowDelay in Go duration syntax.
func (f Faults) MarshalJSON() ([]byte, error) {
	type plain Faults
	return json.Marshal(struct {
		plain
		SlowDelay string `json:"slow_delay,omitempty"`
	}{plain(f), durString(f.SlowDelay)})
}

// UnmarshalJSON reads SlowDelay in Go duration syntax ("250ms").
func (f *Faults) UnmarshalJSON(b []byte) error {
	type plain Faults
	var v struct {
		plain
		SlowDelay string `json:"slow_delay"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Faults(v.plain)
	if v.SlowDelay != "" {
		d, err := time.ParseDuration(v.SlowDelay)
		if err != nil {
			return fmt.Errorf("slow_delay: %w", err)
		}
		f.SlowDelay = d
	}
	return nil
}

func durString(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// Validate reports rates outside [0, 1] and unknown faults.
func (f Faults) Validate() error {
	check := func(m map[Fault]float64) error {
		for k, p := range m {
			if !knownFault(k) {
				return fmt.Errorf("unknown fault %q", k)
			}
			if p < 0 || p > 1 {
				return fmt.Errorf("fault %s: rate %v outside [0, 1]", k, p)
			}
		}
		return nil
	}
	if err := check(f.Rates); err != nil {
		return err
	}
	for ep, m := range f.Endpoints {
		if err := check(m); err != nil {
			return fmt.Errorf("endpoint %s: %w", ep, err)
		}
	}
	for ep, s := range f.Script {
		for _, k := range s {
			if k != "" && !knownFault(k) {
				return fmt.Errorf("script %s: unknown fault %q", ep, k)
			}
		}
	}
	if f.SlowDelay < 0 {
		return fmt.Errorf("negative slow delay")
	}
	return nil
}

func knownFault(k Fault) bool {
	for _, f := range allFaults {
		if f == k {
			return true
		}
	}
	return false
}

type faultInjector struct {
	mu     sync.Mutex
	seed   int64
	f      Faults
	counts map[string]uint64
}

func newFaultInjector(seed int64, f Faults) *faultInjector {
	fi := &faultInjector{seed: seed}
	fi.set(f)
	return fi
}

func (fi *faultInjector) set(f Faults) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	g := Faults{Rates: clampRates(f.Rates), Endpoints: map[string]map[Fault]float64{}, Script: map[string][]Fault{}, SlowDelay: f.SlowDelay}
	for k, m := range f.Endpoints {
		g.Endpoints[k] = clampRates(m)
	}
	for k, s := range f.Script {
		g.Script[k] = append([]Fault(nil), s...)
	}
	if g.SlowDelay <= 0 {
		g.SlowDelay = 3 * time.Second
	}
	fi.f = g
	fi.counts = map[string]uint64{}
}

func clampRates(m map[Fault]float64) map[Fault]float64 {
	out := make(map[Fault]float64, len(m))
	for k, p := range m {
		out[k] = min(max(p, 0), 1)
	}
	return out
}

// pick returns the fault for the next request to endpoint, or "".
func (fi *faultInjector) pick(endpoint string) (Fault, time.Duration) {
	fi.mu.Lock()
	defer fi.mu.Unlock()
	for _, key := range []string{endpoint, "*"} {
		if s := fi.f.Script[key]; len(s) > 0 {
			fi.f.Script[key] = s[1:]
			return s[0], fi.f.SlowDelay
		}
	}
	rates, ok := fi.f.Endpoints[endpoint]
	if !ok {
		rates = fi.f.Rates
	}
	if len(rates) == 0 {
		return "", 0
	}
	n := fi.counts[endpoint]
	fi.counts[endpoint] = n + 1
	u := fi.uniform(endpoint, n)
	acc := 0.0
	for _, k := range allFaults {
		acc += rates[k]
		if u < acc {
			return k, fi.f.SlowDelay
		}
	}
	return "", 0
}

// uniform is a deterministic number in [0, 1) for the n-th request to an
// endpoint.
func (fi *faultInjector) uniform(endpoint string, n uint64) float64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(fi.seed))
	binary.LittleEndian.PutUint64(b[8:], n)
	h.Write(b[:])
	h.Write([]byte(endpoint))
	x := h.Sum64()
	x ^= x >> 33 // fnv's low bits are weak; mix before scaling
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return float64(x>>11) / (1 << 53)
}
