package tokenfactory_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestPoolDistinctAndRoundTrips(t *testing.T) {
	t.Parallel()
	f := newFactory(t)
	var last int
	pairs, err := f.Pool(context.Background(), tokenfactory.PoolSpec{
		N: 40, Workers: 3,
		Make: func(i int) (tokenfactory.Access, *tokenfactory.ID) {
			c := fmt.Sprintf("client-%d", i)
			return tokenfactory.Access{AppID: testApp, ClientID: c}, &tokenfactory.ID{AppID: testApp, ClientID: c}
		},
		Progress: func(d int) { last = d },
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != 40 {
		t.Errorf("progress ended at %d", last)
	}
	seen := map[string]bool{}
	for i, p := range pairs {
		if seen[p.Access] || p.ID == "" || p.ClientID != fmt.Sprintf("client-%d", i) {
			t.Fatalf("pair %d: duplicate or incomplete: %+v", i, p)
		}
		seen[p.Access] = true
		if err := jwxAccepts(t, f, p.Access); err != nil {
			t.Fatalf("pair %d access token invalid: %v", i, err)
		}
	}
	var buf bytes.Buffer
	if err := tokenfactory.WritePool(&buf, pairs); err != nil {
		t.Fatal(err)
	}
	back, err := tokenfactory.ReadPool(&buf)
	if err != nil || len(back) != len(pairs) || back[7] != pairs[7] {
		t.Fatalf("round trip: %v, %d pairs", err, len(back))
	}
	if _, err := tokenfactory.ReadPool(bytes.NewBufferString("{not json")); err == nil {
		t.Error("garbage pool file accepted")
	}
}

func TestPoolStopsOnCancel(t *testing.T) {
	t.Parallel()
	f := newFactory(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.Pool(ctx, tokenfactory.PoolSpec{N: 1_000_000, Make: func(i int) (tokenfactory.Access, *tokenfactory.ID) {
		return tokenfactory.Access{AppID: testApp, ClientID: fmt.Sprint(i)}, nil
	}})
	if err == nil {
		t.Fatal("cancelled pool returned no error")
	}
}
