package main

import (
	"context"
	"time"

	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/targets/container"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// imageStarter starts --target-image containers with testcontainers-go
// (host networking, the contract's environment, logs kept for the report).
func imageStarter() harness.ImageStarter {
	return func(ctx context.Context, image string, c launch.Contract) (string, func() string, func() error, error) {
		t, err := container.Start(ctx, image, c, container.Options{})
		if err != nil {
			return "", nil, nil, err
		}
		logs := func() string {
			lctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s, _ := t.Logs(lctx)
			return s
		}
		stop := func() error {
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return t.Terminate(sctx)
		}
		return t.URL(), logs, stop, nil
	}
}
