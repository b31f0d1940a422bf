package usage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/partnerapi/partner-api/shared/store"
	"github.com/partnerapi/partner-api/shared/usage"
)

// recorder is a Counter that records what it is asked to add.
type recorder struct {
	mu    sync.Mutex
	added []int64
}

func (r *recorder) AddUsage(_ context.Context, e store.UsageEvent, shard int, n int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.added = append(r.added, n)
	return nil
}

// TestMeterTakesBack: a token that was counted but not issued (signing
// failed) is taken back, on the same counter.
func TestMeterTakesBack(t *testing.T) {
	now := func() time.Time { return time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC) }
	for _, tc := range []struct {
		issued bool
		want   int64
	}{{true, 1}, {false, 0}} {
		r := &recorder{}
		usage.NewMeter(r, nil, now).Token(context.Background(), "p", "o", "c")(tc.issued)
		var sum int64
		for _, n := range r.added {
			sum += n
		}
		if sum != tc.want {
			t.Errorf("issued=%t: got %v, want a net %d", tc.issued, r.added, tc.want)
		}
	}
}
