package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/targets"
	"github.com/mcaspec/mcaspec/targets/container"
	"github.com/mcaspec/mcaspec/targets/launch"
)

// imageStarter starts --target-image containers with testcontainers-go
// (host networking, the contract's environment, logs kept for the report).
func imageStarter() targets.ImageStarter {
	return func(ctx context.Context, image string, c contract.Contract) (string, func() string, func() error, error) {
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

// targetFlags are the conformance command's target flags: at most one of
// --target, --target-cmd and --target-image (none: the built-in reference).
type targetFlags struct {
	url, cmd, dir, image string
	ready                time.Duration
}

// several reports whether more than one target flag is set.
func (f targetFlags) several() bool {
	n := 0
	for _, v := range []string{f.url, f.cmd, f.image} {
		if v != "" {
			n++
		}
	}
	return n > 1
}

// target is the target the flags describe (nil: the built-in reference);
// check has refused several.
func (f targetFlags) target() (targets.Target, error) {
	switch {
	case f.url != "":
		if err := targets.CheckURL(f.url); err != nil {
			return nil, fmt.Errorf("%w: --target: %w", errUsage, err)
		}
		return targets.URL(f.url, f.ready), nil
	case f.cmd != "":
		return targets.Command(f.cmd, launch.Options{Dir: f.dir, ReadyTimeout: f.ready}), nil
	case f.image != "":
		return targets.Image(f.image, imageStarter()), nil
	}
	return nil, nil
}
