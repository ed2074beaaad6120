package pipeline

import (
	"context"
	"sync"
)

// Runner runs loads in the background of a server, a few at a time: the
// request that asks for a load gets its queued run at once and the load
// goes on with the runner's own context, not the request's.
type Runner struct {
	loader *Loader
	slots  chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewRunner runs at most concurrency loads at once (2 when < 1).
func NewRunner(loader *Loader, concurrency int) *Runner {
	if concurrency < 1 {
		concurrency = 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{loader: loader, slots: make(chan struct{}, concurrency), ctx: ctx, cancel: cancel}
}

// Start records req as a queued run and returns it; the load runs later.
// done, when set, is called after the load ends (e.g. to remove an
// uploaded file).
func (r *Runner) Start(ctx context.Context, req Request, done func()) (*Run, error) {
	c := req.Catalog
	run, err := CreateRun(ctx, r.loader.Pool, NewRun{CatalogID: c.ID, CatalogClave: c.Clave, Trigger: req.Trigger,
		DryRun: req.DryRun, Source: req.Source, ActorID: actorID(req.Actor), ActorLogin: req.Actor.Login})
	if err != nil {
		if done != nil {
			done()
		}
		return nil, err
	}
	req.RunID = run.ID
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if done != nil {
			defer done()
		}
		select {
		case r.slots <- struct{}{}:
		case <-r.ctx.Done():
			ld := &load{Loader: r.loader, req: req, runID: run.ID, timings: map[string]float64{}, errs: newCollector(0)}
			ld.finish(r.ctx, outcome{state: Failed, code: CodeCancelled, err: "el servidor se detuvo antes de iniciar la carga"})
			return
		}
		defer func() { <-r.slots }()
		_, _ = r.loader.Run(r.ctx, req)
	}()
	return run, nil
}

// Close cancels the loads still running (they end as failed, the published
// catalogs untouched) and waits for them.
func (r *Runner) Close() {
	r.cancel()
	r.wg.Wait()
}
