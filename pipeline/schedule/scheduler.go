package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Scheduler is gocron with the leader elector: every instance keeps the same
// jobs, and only the leader runs them.
type Scheduler struct {
	cron    gocron.Scheduler
	elector *Elector
	logger  *slog.Logger
}

// New returns a scheduler whose jobs run only while this instance leads.
func New(pool *pgxpool.Pool, logger *slog.Logger) (*Scheduler, error) {
	if logger == nil {
		logger = slog.Default()
	}
	el := NewElector(pool, LeaderLock, logger)
	s, err := gocron.NewScheduler(
		gocron.WithDistributedElector(el),
		gocron.WithLocation(mexicoCity()),
		gocron.WithStopTimeout(30*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	return &Scheduler{cron: s, elector: el, logger: logger}, nil
}

// Every runs task every d (never two runs of it at once).
func (s *Scheduler) Every(name string, d time.Duration, task func(ctx context.Context) error) error {
	_, err := s.add(name, gocron.DurationJob(d), task)
	return err
}

// Cron runs task on a crontab schedule (five fields, America/Mexico_City).
func (s *Scheduler) Cron(name, crontab string, task func(ctx context.Context) error) error {
	_, err := s.add(name, gocron.CronJob(crontab, false), task)
	return err
}

// EveryJob is Every for jobs that come and go (one per connector): the
// first run is at first (at once when it has passed; after d when zero),
// and the job's id is returned for Remove.
func (s *Scheduler) EveryJob(name string, d time.Duration, first time.Time, task func(ctx context.Context) error) (uuid.UUID, error) {
	var opts []gocron.JobOption
	switch {
	case first.IsZero():
	case !first.After(time.Now()):
		opts = append(opts, gocron.WithStartAt(gocron.WithStartImmediately()))
	default:
		opts = append(opts, gocron.WithStartAt(gocron.WithStartDateTime(first)))
	}
	return s.add(name, gocron.DurationJob(d), task, opts...)
}

// CronJob is Cron for jobs that come and go; it returns the job's id.
func (s *Scheduler) CronJob(name, crontab string, task func(ctx context.Context) error) (uuid.UUID, error) {
	return s.add(name, gocron.CronJob(crontab, false), task)
}

// Remove stops and forgets a job added with EveryJob or CronJob; a run in
// progress finishes.
func (s *Scheduler) Remove(id uuid.UUID) error {
	if err := s.cron.RemoveJob(id); err != nil && !errors.Is(err, gocron.ErrJobNotFound) {
		return fmt.Errorf("schedule: remove job: %w", err)
	}
	return nil
}

func (s *Scheduler) add(name string, def gocron.JobDefinition, task func(ctx context.Context) error, extra ...gocron.JobOption) (uuid.UUID, error) {
	opts := append([]gocron.JobOption{
		gocron.WithName(name),
		gocron.WithSingletonMode(gocron.LimitModeReschedule),
		gocron.WithEventListeners(gocron.AfterJobRunsWithPanic(func(_ uuid.UUID, job string, p any) {
			s.logger.Error("scheduled job panicked", "job", job, "panic", p)
		})),
	}, extra...)
	job, err := s.cron.NewJob(def,
		gocron.NewTask(func(ctx context.Context) {
			start := time.Now()
			if err := task(ctx); err != nil {
				s.logger.Error("scheduled job failed", "job", name, "err", err, "took", time.Since(start))
			}
		}),
		opts...,
	)
	if err != nil {
		return uuid.Nil, fmt.Errorf("schedule: job %s: %w", name, err)
	}
	return job.ID(), nil
}

// Run starts the jobs and blocks until ctx ends, then waits for running jobs
// and gives up the leadership.
func (s *Scheduler) Run(ctx context.Context) error {
	s.cron.Start()
	<-ctx.Done()
	err := s.cron.Shutdown()
	_ = s.elector.Close()
	return err
}

// Leading reports whether this instance led at its last check.
func (s *Scheduler) Leading() bool { return s.elector.Leading() }

func mexicoCity() *time.Location {
	loc, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		return time.FixedZone("CST", -6*3600)
	}
	return loc
}
