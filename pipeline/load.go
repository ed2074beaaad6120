package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Loader runs loads against one database.
type Loader struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// MaxErrors caps the errors a report stores (DefaultMaxErrors when 0);
	// the counts stay exact.
	MaxErrors int
	// ProgressEvery is how often a running load writes its progress to its
	// run (1 s when 0).
	ProgressEvery time.Duration
	// LockWait is how long a load waits for another load of the same
	// catalog to end before it fails as busy (DefaultLockWait when 0;
	// no wait when negative).
	LockWait time.Duration
}

// Request is one load of one catalog.
type Request struct {
	Catalog *catalog.Catalog
	// Open opens the source. The pipeline may call it twice: a first load
	// that PostgreSQL refuses is read again to say exactly why.
	Open    func(ctx context.Context) (Stream, error)
	Source  string // what the run records as its source; no secrets
	Trigger Trigger
	Actor   catalog.Actor
	// DryRun validates and reports without publishing.
	DryRun bool
	// MaxRows stops a source that brings more rows than this. 0 takes ten
	// times the rows of the published version (at least 100,000), so that a
	// runaway source is stopped before it fills the database; no limit for
	// a catalog without data, or when negative.
	MaxRows int64
	// RowBase is the row number of the first data row: 2 for a file with a
	// header row (Frictionless counts the header as row 1), 1 otherwise.
	RowBase int64
	// RunID is a run already created (queued) by the caller; 0 creates one.
	RunID int64
	// OnProgress, when set, is called with the progress as the load goes.
	OnProgress func(Progress)
}

// Progress is what a load has done so far.
type Progress struct {
	Stage      string  `json:"stage"`
	Rows       int64   `json:"rows"`
	Valid      int64   `json:"valid"`
	Rejected   int64   `json:"rejected"`
	Bytes      int64   `json:"bytes"`
	TotalBytes int64   `json:"totalBytes,omitempty"`
	Seconds    float64 `json:"seconds"`
}

// Error codes a failed run records, stable for the API.
const (
	CodeBusy        = "busy"
	CodeSource      = "source"
	CodeDefinition  = "definition"
	CodeInvalid     = "invalid"
	CodeEmpty       = "empty"
	CodeTooManyRows = "too-many-rows"
	CodeDatabase    = "database"
	CodeCancelled   = "cancelled"
	CodeInterrupted = "interrupted"
)

// Run performs the load and returns its run as finished: succeeded,
// rejected (the report says why) or failed (Error says why, in Spanish).
// The published catalog changes only when the run succeeds. The error is
// non-nil only when the run could not even be recorded.
func (l *Loader) Run(ctx context.Context, req Request) (*Run, error) {
	c := req.Catalog
	if c == nil || req.Open == nil {
		return nil, errors.New("pipeline: a load needs a catalog and a source")
	}
	runID := req.RunID
	if runID == 0 {
		r, err := CreateRun(ctx, l.Pool, NewRun{CatalogID: c.ID, CatalogClave: c.Clave, Trigger: req.Trigger,
			DryRun: req.DryRun, Source: req.Source, ActorID: actorID(req.Actor), ActorLogin: req.Actor.Login})
		if err != nil {
			return nil, err
		}
		runID = r.ID
	}
	if req.MaxRows == 0 && c.CurrentVersion > 0 {
		limit, err := expectedRows(ctx, l.Pool, c)
		if err != nil && l.Logger != nil {
			l.Logger.Warn("load: no default row limit", "catalog", c.Clave, "err", err)
		}
		req.MaxRows = limit
	}
	if req.MaxRows < 0 {
		req.MaxRows = 0
	}
	ld := &load{Loader: l, req: req, runID: runID, timings: map[string]float64{}, started: time.Now(),
		errs: newCollector(l.MaxErrors)}
	o := ld.run(ctx)
	ld.finish(ctx, o)
	return GetRun(context.WithoutCancel(ctx), l.Pool, runID)
}

// DefaultLockWait is how long a load waits, by default, for the catalog's
// previous load to release it.
const DefaultLockWait = 3 * time.Second

func (l *Loader) lockWait() time.Duration {
	switch {
	case l.LockWait < 0:
		return 0
	case l.LockWait == 0:
		return DefaultLockWait
	}
	return l.LockWait
}

// MinRowLimit is the least default row limit of a load (see MaxRows).
const MinRowLimit = 100_000

// expectedRows is the default row limit of a load into c: ten times the
// rows of its published version.
func expectedRows(ctx context.Context, pool *pgxpool.Pool, c *catalog.Catalog) (int64, error) {
	versions, err := catalog.NewStore(pool, nil).Versions(ctx, c.ID)
	if err != nil {
		return 0, fmt.Errorf("pipeline: versions of %s: %w", c.Clave, err)
	}
	limit := int64(MinRowLimit)
	for _, v := range versions {
		if v.Number == c.CurrentVersion && 10*v.Rows > limit {
			limit = 10 * v.Rows
		}
	}
	return limit, nil
}

func actorID(a catalog.Actor) *int64 {
	if a.UserID == 0 {
		return nil
	}
	id := a.UserID
	return &id
}

// load is the state of one run while it goes.
type load struct {
	*Loader
	req     Request
	runID   int64
	errs    *collector
	started time.Time

	mu      sync.Mutex
	stage   string
	stageAt time.Time
	timings map[string]float64
	src     *rowSource
	stream  Stream
	// published is set once the publication committed, with its outcome.
	published *outcome
	// pub, in a re-load, is the published rows the load compares with.
	pub *pendingPublished
	// digest, when the catalog keeps one, is how the load reads and
	// stores it.
	digest *digestPlan
}

func (ld *load) logger() *slog.Logger {
	if ld.Logger != nil {
		return ld.Logger
	}
	return slog.Default()
}

// enter closes the timing of the current stage and starts the next.
func (ld *load) enter(stage string) {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	now := time.Now()
	if ld.stage != "" {
		ld.timings[ld.stage] += now.Sub(ld.stageAt).Seconds()
	}
	ld.stage, ld.stageAt = stage, now
}

// snapshot is the progress now, safe to call from any goroutine.
func (ld *load) snapshot() progress {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	p := progress{stage: ld.stage, timings: make(map[string]float64, len(ld.timings)+1)}
	for k, v := range ld.timings {
		p.timings[k] = v
	}
	if ld.stage != "" {
		p.timings[ld.stage] += time.Since(ld.stageAt).Seconds()
	}
	if ld.src != nil {
		p.read, p.valid, p.rejected = ld.src.read.Load(), ld.src.valid.Load(), ld.src.rejected.Load()
	}
	if ld.stream != nil {
		sp := ld.stream.Progress()
		p.bytesRead = sp.Bytes
		if sp.TotalBytes > 0 {
			p.bytesTotal = &sp.TotalBytes
		}
	}
	return p
}

func (ld *load) public(p progress) Progress {
	out := Progress{Stage: p.stage, Rows: p.read, Valid: p.valid, Rejected: p.rejected, Bytes: p.bytesRead,
		Seconds: time.Since(ld.started).Seconds()}
	if p.bytesTotal != nil {
		out.TotalBytes = *p.bytesTotal
	}
	return out
}

// watch writes the progress to the run (and to OnProgress) until stop.
func (ld *load) watch(ctx context.Context) (stop func()) {
	every := ld.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				p := ld.snapshot()
				if err := updateProgress(ctx, ld.Pool, ld.runID, p); err != nil && ctx.Err() == nil {
					ld.logger().Warn("load progress not recorded", "run", ld.runID, "err", err)
				}
				if ld.req.OnProgress != nil {
					ld.req.OnProgress(ld.public(p))
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (ld *load) fail(code string, err error) outcome {
	return outcome{state: Failed, code: code, err: err.Error()}
}

func (ld *load) reject(code, msg string) outcome {
	return outcome{state: Rejected, code: code, err: msg}
}

// run does the load; it returns how the run ends.
func (ld *load) run(ctx context.Context) outcome {
	c := ld.req.Catalog
	unlock, ok, err := lockCatalog(ctx, ld.Pool, c.ID, ld.lockWait())
	if err != nil {
		return ld.fail(CodeDatabase, err)
	}
	if !ok {
		return ld.fail(CodeBusy, fmt.Errorf("ya hay una carga en curso del catálogo «%s»; espere a que termine", c.Clave))
	}
	defer unlock()
	if err := startRun(ctx, ld.Pool, ld.runID); err != nil {
		return ld.fail(CodeDatabase, err)
	}
	ld.enter(StageOpen)
	stop := ld.watch(ctx)
	defer stop()

	if c.State == catalog.Retirado {
		return ld.fail(CodeDefinition, fmt.Errorf("el catálogo «%s» está retirado: no admite cargas", c.Clave))
	}
	cols, err := columnsOf(c.Resource, pgtype.NewMap())
	if err != nil {
		return ld.fail(CodeDefinition, fmt.Errorf("la definición del catálogo «%s» no se puede cargar: %w", c.Clave, err))
	}
	if !ld.req.DryRun && deltaApplies(c.Resource, cols) {
		ld.digest = ld.planDigest(ctx)
	}
	defer ld.dropSpill()
	if c.CurrentVersion == 0 && !ld.req.DryRun {
		o, fallback := ld.direct(ctx, cols)
		if !fallback {
			return o
		}
		// Read again through staging, where every check can say where.
		ld.dropSpill()
		ld.mu.Lock()
		ld.errs, ld.src, ld.stream = newCollector(ld.MaxErrors), nil, nil
		ld.mu.Unlock()
	}
	if c.CurrentVersion > 0 && !ld.req.DryRun && deltaApplies(c.Resource, cols) {
		// A re-load stages only the rows that are new or changed.
		var plan digestPlan
		if ld.digest != nil {
			plan = *ld.digest
		}
		ld.pub = readPublished(ctx, ld.Pool, c, cols, plan, ld.logger())
		defer ld.pub.stop()
	}
	st := &staging{name: stagingName(ld.runID), cols: cols}
	if err := st.create(ctx, ld.Pool); err != nil {
		return ld.fail(CodeDatabase, err)
	}
	defer func() {
		if err := st.drop(ctx, ld.Pool); err != nil {
			ld.logger().Warn("staging table not dropped", "table", st.name, "err", err)
		}
	}()
	if o, done, _ := ld.copyRows(ctx, cols, func(rs *rowSource) (int64, error) { return st.copyFrom(ctx, ld.Pool, rs) }); done {
		return o
	}
	ld.enter(StageKeys)
	if err := pgdb.WithTx(ctx, ld.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+workMem+"'"); err != nil {
			return err
		}
		return ld.checkAll(ctx, tx, st)
	}); err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			return ld.fail(CodeDefinition, err)
		}
		return ld.fail(CodeDatabase, err)
	}
	return ld.publish(ctx, st)
}

// aheadBatches is how many batches a re-load decodes ahead of the
// comparison (about 1 MB each for the benchmark's rows). On a quiet machine
// 32 were no faster than 8 and took the re-load's peak memory from 155 to
// 227 MB.
const aheadBatches = 8

// workMem lets the checks and the diff hash a million keys in memory
// instead of sorting on disk; it applies to the load's own transactions.
const workMem = "256MB"

// direct is the first load of an empty catalog: the rows are copied straight
// into the live table inside the publication's transaction, so they are
// written once. The live table's own constraints (primary key, unique,
// foreign keys) refuse what the per-row checks cannot see; then, or when the
// rows have errors, fallback asks for the staged path, whose report says
// exactly where every problem is.
func (ld *load) direct(ctx context.Context, cols []*column) (o outcome, fallback bool) {
	c := ld.req.Catalog
	tx, err := ld.Pool.Begin(ctx)
	if err != nil {
		return ld.fail(CodeDatabase, err), false
	}
	defer pgdb.Rollback(ctx, tx)
	var empty bool
	if err := tx.QueryRow(ctx, "SELECT NOT EXISTS (SELECT 1 FROM "+pgdb.QuoteQualified("cat", c.Table)+")").Scan(&empty); err != nil {
		return ld.fail(CodeDatabase, fmt.Errorf("catálogo «%s»: %w", c.Clave, err)), false
	}
	if !empty {
		return outcome{}, true
	}
	if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+workMem+"'"); err != nil {
		return ld.fail(CodeDatabase, err), false
	}
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.name
	}
	o, done, copyErr := ld.copyRows(ctx, cols, func(rs *rowSource) (int64, error) {
		rs.noRowNumber = true
		return copyText(ctx, tx, pgx.Identifier{"cat", c.Table}, names, rs)
	})
	if done {
		var pgErr *pgconn.PgError
		if errors.As(copyErr, &pgErr) && strings.HasPrefix(pgErr.Code, "23") {
			return outcome{}, true
		}
		return o, false
	}
	if ld.errs.count() > 0 && !c.PublishValidRows {
		return outcome{}, true
	}
	if ld.src.valid.Load() == 0 {
		return ld.reject(CodeInvalid, "ninguna fila es válida; no se publicó nada"), false
	}
	ld.enter(StagePublish)
	v, err := catalog.PublishFirstLoad(ctx, tx, c, ld.req.Actor, &ld.runID)
	if err != nil {
		return ld.publishError(err), false
	}
	n := v.Number
	o = outcome{state: Succeeded, version: &n, added: v.Added}
	ld.storeDigest(ctx, tx, n)
	if err := ld.record(ctx, tx, o); err != nil {
		return ld.fail(CodeDatabase, err), false
	}
	if err := tx.Commit(ctx); err != nil {
		return ld.fail(CodeDatabase, fmt.Errorf("la publicación falló; el catálogo publicado no cambió: %w", err)), false
	}
	ld.published = &o
	return o, false
}

func (ld *load) publishError(err error) outcome {
	var ce *catalog.Error
	if errors.As(err, &ce) {
		return ld.fail(CodeInvalid, ce)
	}
	return ld.fail(CodeDatabase, fmt.Errorf("la publicación falló; el catálogo publicado no cambió: %w", err))
}

// copyRows reads the whole source and hands the valid rows to copy; done
// is true when the run ends here, copyErr is what copy returned.
func (ld *load) copyRows(ctx context.Context, cols []*column, copy func(*rowSource) (int64, error)) (o outcome, done bool, copyErr error) {
	stream, err := ld.req.Open(ctx)
	if err != nil {
		return ld.fail(CodeSource, fmt.Errorf("no se pudo abrir el origen: %w", err)), true, nil
	}
	if ld.pub != nil {
		stream = readAhead(stream, aheadBatches)
	}
	defer stream.Close()
	src, labels := bindColumns(cols, stream.Schema())
	if len(labels) > 0 {
		for _, e := range labels {
			ld.errs.add(e)
		}
		return ld.reject(CodeInvalid, "las columnas del origen no coinciden con la definición del catálogo"), true, nil
	}
	base := ld.req.RowBase
	if base == 0 {
		base = 1
	}
	v := &validator{cols: cols, src: src, missing: missingValues(ld.req.Catalog), errs: ld.errs, rowBase: base}
	rs := newRowSource(ctx, stream, v, ld.req.MaxRows)
	var newSpill func(digestKey) *digestSpill
	if ld.digest != nil {
		newSpill = func(key digestKey) *digestSpill { return newDigestSpill(ctx, ld.Pool, ld.req.Catalog.ID, key) }
	}
	switch {
	case ld.pub != nil:
		rs.delta = newDelta(ld.pub, keySets(ld.req.Catalog.Resource)[0], newSpill)
	case newSpill != nil:
		rs.spill, rs.keyPos = newSpill(newDigestKey()), keyPositions(ld.req.Catalog.Resource, cols)
	}
	ld.mu.Lock()
	ld.src, ld.stream = rs, stream
	ld.mu.Unlock()
	ld.enter(StageValidate)
	_, copyErr = copy(rs)
	rs.close()
	err = copyErr
	if rs.err != nil {
		err = rs.err
	}
	if err != nil {
		var limit *rowLimitError
		switch {
		case errors.As(err, &limit):
			return ld.fail(CodeTooManyRows, fmt.Errorf("el origen trae más de %d filas, el máximo esperado para esta carga; no se publicó nada", limit.limit)), true, copyErr
		case ctx.Err() != nil:
			return ld.fail(CodeCancelled, errors.New("la carga se canceló; el catálogo publicado no cambió")), true, copyErr
		case rs.streamErr:
			return ld.fail(CodeSource, fmt.Errorf("la lectura del origen falló: %w", err)), true, copyErr
		}
		return ld.fail(CodeDatabase, fmt.Errorf("no se pudieron preparar las filas: %w", err)), true, copyErr
	}
	if rs.read.Load() == 0 {
		ld.errs.add(ReportError{Type: ErrSource, Message: "el origen no trae filas: no se publica un catálogo vacío"})
		return ld.reject(CodeEmpty, "el origen no trae filas"), true, nil
	}
	return outcome{}, false, nil
}

func missingValues(c *catalog.Catalog) map[string]bool {
	mv := c.Resource.Schema.MissingValues
	if mv == nil {
		mv = []string{""}
	}
	out := make(map[string]bool, len(mv))
	for _, s := range mv {
		out[s] = true
	}
	return out
}

// checkAll runs the checks over all staged rows: keys, then references.
func (ld *load) checkAll(ctx context.Context, db pgdb.DBTX, st *staging) error {
	sample := ld.MaxErrors
	if sample <= 0 {
		sample = DefaultMaxErrors
	}
	res := ld.req.Catalog.Resource
	for _, k := range keySets(res) {
		n, err := st.checkKeys(ctx, db, k, ld.errs, sample)
		if err != nil {
			return err
		}
		ld.src.valid.Add(-n)
		ld.src.rejected.Add(n)
	}
	for _, fk := range res.Schema.ForeignKeys {
		n, err := st.checkForeignKey(ctx, db, fk, ld.errs, sample)
		if err != nil {
			return err
		}
		ld.src.valid.Add(-n)
		ld.src.rejected.Add(n)
	}
	return nil
}

// publish hands the staged rows to the catalog in one transaction, which
// also records the run as succeeded: the version and the run commit
// together or not at all.
func (ld *load) publish(ctx context.Context, st *staging) outcome {
	c := ld.req.Catalog
	bad := ld.errs.count()
	if bad > 0 && !c.PublishValidRows {
		return ld.reject(CodeInvalid, fmt.Sprintf("la carga tiene %d errores; no se publicó nada (el catálogo no admite publicar sólo las filas válidas)", bad))
	}
	if ld.src.valid.Load() == 0 {
		return ld.reject(CodeInvalid, "ninguna fila es válida; no se publicó nada")
	}
	if ld.req.DryRun {
		return outcome{state: Succeeded}
	}
	ld.enter(StagePublish)
	var o outcome
	err := pgdb.WithTx(ctx, ld.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL work_mem = '"+workMem+"'"); err != nil {
			return err
		}
		v, err := ld.publishStaged(ctx, tx, st)
		if err != nil {
			return err
		}
		n := v.Number
		o = outcome{state: Succeeded, version: &n, added: v.Added, changed: v.Changed, removed: v.Removed}
		if v.Unchanged {
			o.code = "unchanged"
		}
		ld.storeDigest(ctx, tx, n)
		return ld.record(ctx, tx, o)
	})
	if err != nil {
		return ld.publishError(err)
	}
	ld.published = &o
	return o
}

// publishStaged publishes the staged rows: all of them, or in a re-load
// the changed ones and the removed keys.
func (ld *load) publishStaged(ctx context.Context, tx pgx.Tx, st *staging) (catalog.Version, error) {
	c, staged := ld.req.Catalog, StagingSchema+"."+st.name
	if ld.pub == nil {
		return catalog.PublishStaged(ctx, tx, c, staged, ld.req.Actor, &ld.runID)
	}
	p, err := ld.pub.wait()
	if err != nil {
		return catalog.Version{}, err
	}
	removed, err := p.stageRemoved(ctx, tx)
	if err != nil {
		return catalog.Version{}, err
	}
	return catalog.PublishDelta(ctx, tx, c, staged, removed, p.version, ld.req.Actor, &ld.runID)
}

// planDigest prepares the catalog's digest for this load; nil (and the
// load goes on without one) when it cannot.
func (ld *load) planDigest(ctx context.Context) *digestPlan {
	c := ld.req.Catalog
	shape, err := digestShape(c.Resource)
	if err == nil {
		var plan digestPlan
		if plan, err = prepareDigest(ctx, ld.Pool, c, shape); err == nil {
			return &plan
		}
	}
	ld.logger().Warn("load: the catalog's digest is not used", "catalog", c.Clave, "err", err)
	return nil
}

// storeDigest stores, in the publication's transaction, the digest of the
// rows the load published as version's. A load with errors stores none.
// Failing to store it does not fail the load: the next one reads the
// live rows.
func (ld *load) storeDigest(ctx context.Context, tx pgx.Tx, version int) {
	if ld.digest == nil || ld.src == nil || ld.errs.count() > 0 {
		return
	}
	spill := ld.src.digest()
	if spill == nil {
		return
	}
	if _, err := spill.store(ctx, tx, *ld.digest, version); err != nil {
		ld.logger().Warn("load: the catalog's digest was not stored", "catalog", ld.req.Catalog.Clave, "err", err)
	}
}

// dropSpill stops collecting the digest and, unless it was stored,
// removes what was written of it.
func (ld *load) dropSpill() {
	ld.mu.Lock()
	src := ld.src
	ld.mu.Unlock()
	if src != nil {
		src.digest().close()
	}
}

// record writes the run's end on db (the publication's transaction, or the
// pool).
func (ld *load) record(ctx context.Context, db pgdb.DBTX, o outcome) error {
	ld.enter("")
	o.progress = ld.snapshot()
	o.progress.stage = ld.lastStage(o)
	r := &Report{}
	ld.errs.fill(r)
	r.Stats.Rows, r.Stats.Valid, r.Stats.Rejected = o.progress.read, o.progress.valid, o.progress.rejected
	r.Stats.Fields = len(ld.req.Catalog.Resource.Schema.Fields)
	r.Stats.Bytes = o.progress.bytesRead
	r.Stats.Seconds = time.Since(ld.started).Seconds()
	r.Stats.Added, r.Stats.Changed, r.Stats.Removed = o.added, o.changed, o.removed
	o.report = r
	return finishRun(ctx, db, ld.runID, o)
}

func (ld *load) lastStage(o outcome) string {
	ld.mu.Lock()
	defer ld.mu.Unlock()
	last := ""
	for _, s := range []string{StageOpen, StageValidate, StageKeys, StagePublish} {
		if _, ok := ld.timings[s]; ok {
			last = s
		}
	}
	return last
}

// finish records how the run ended, unless the publication did already.
func (ld *load) finish(ctx context.Context, o outcome) {
	if ld.published != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := ld.record(ctx, ld.Pool, o); err != nil {
		ld.logger().Error("load outcome not recorded", "run", ld.runID, "err", err)
	}
}
