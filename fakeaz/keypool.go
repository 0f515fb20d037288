package fakeaz

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"sync"
)

// keyPool hands out RSA keys, keeping up to size of them generated in
// advance by one background goroutine (stopped by stop).
type keyPool struct {
	gen    func() (*rsa.PrivateKey, error)
	ch     chan *rsa.PrivateKey
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newKeyPool(gen func() (*rsa.PrivateKey, error), size int, log *slog.Logger) *keyPool {
	p := &keyPool{gen: gen, cancel: func() {}}
	if size <= 0 {
		return p
	}
	p.ch = make(chan *rsa.PrivateKey, size)
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for ctx.Err() == nil {
			k, err := gen()
			if err != nil {
				log.Warn("key pool: generating a key failed; keys will be generated on demand", "err", err)
				return
			}
			select {
			case p.ch <- k:
			case <-ctx.Done():
				return
			}
		}
	}()
	return p
}

// get returns a pooled key or generates one now.
func (p *keyPool) get() (*rsa.PrivateKey, error) {
	if p.ch != nil {
		select {
		case k := <-p.ch:
			return k, nil
		default:
		}
	}
	return p.gen()
}

// stop ends the background generation and waits for it (at most the time of
// one key generation).
func (p *keyPool) stop() {
	p.cancel()
	p.wg.Wait()
}
