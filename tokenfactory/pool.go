package tokenfactory

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Pair is one valid access token with its id token, for load tests.
type Pair struct {
	AppID    string `json:"appId"`
	ClientID string `json:"clientId"`
	Access   string `json:"access"`
	ID       string `json:"id,omitempty"`
	// Exp is the tokens' exp (Unix seconds): a pool read from disk is stale after it.
	Exp int64 `json:"exp"`
}

// Header returns the Authorization header value for the pair.
func (p Pair) Header() string {
	if p.ID == "" {
		return "Bearer " + p.Access
	}
	return "Bearer " + p.Access + " " + p.ID
}

// PoolSpec describes a token pool.
type PoolSpec struct {
	// N is the number of distinct pairs.
	N int
	// Workers bounds the parallelism (0 means GOMAXPROCS).
	Workers int
	// Make returns the claims of pair i. Each i must give distinct tokens
	// (e.g. a distinct client id), or the pool holds duplicates.
	Make func(i int) (Access, *ID)
	// Progress, when set, is called now and then with the number minted so far.
	Progress func(done int)
}

// Pool mints spec.N pairs in parallel. It stops early with ctx's error.
func (f *Factory) Pool(ctx context.Context, spec PoolSpec) ([]Pair, error) {
	if spec.N < 0 || spec.Make == nil {
		return nil, errors.New("tokenfactory: pool needs N >= 0 and Make")
	}
	workers := spec.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	out := make([]Pair, spec.N)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var mu sync.Mutex
	done := 0
	for i := range spec.N {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			p, err := f.pair(spec.Make(i))
			if err != nil {
				return fmt.Errorf("tokenfactory: pool item %d: %w", i, err)
			}
			out[i] = p
			if spec.Progress != nil {
				mu.Lock()
				done++
				if done%1000 == 0 || done == spec.N {
					spec.Progress(done)
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (f *Factory) pair(a Access, id *ID) (Pair, error) {
	now := f.now()
	p := Pair{AppID: a.AppID, ClientID: a.ClientID, Exp: now.Add(f.lifetime).Unix()}
	var err error
	if p.Access, err = f.Sign(f.AccessClaims(a, now), now); err != nil {
		return p, err
	}
	if id != nil {
		p.ID, err = f.Sign(f.IDClaims(*id, now), now)
	}
	return p, err
}

// WritePool writes pairs as JSON lines.
func WritePool(w io.Writer, pairs []Pair) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, p := range pairs {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadPool reads pairs written by WritePool.
func ReadPool(r io.Reader) ([]Pair, error) {
	dec := json.NewDecoder(r)
	var out []Pair
	for {
		var p Pair
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("tokenfactory: pool line %d: %w", len(out)+1, err)
		}
		out = append(out, p)
	}
}
