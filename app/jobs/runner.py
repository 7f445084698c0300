"""The long-running job processes (`flask jobs worker`, `flask jobs cron`) outlive a Redis outage.

RQ's worker retries while it waits for a job, but quits on a Redis error anywhere else (after a
job, at registration, on a timeout), and RQ's cron scheduler quits on the first one. Each is run
here in a loop: when it stops without being asked to, wait for Redis with backoff (1, 2, 4, then every 5 s),
hand over the jobs held while it was away, and start a new one. SIGTERM / SIGINT still stop
them as before (a worker finishes its job first).
"""
from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import redis
from flask import current_app
from rq import Queue, Worker
from rq.cron import CronScheduler
from rq.defaults import DEFAULT_WORKER_TTL
from rq.job import Job
from rq.worker import WorkerStatus

from app.core import sentiment
from app.extensions import db
from app.jobs import BULK, hand_over_held

log = logging.getLogger(__name__)

#: Waits between tries while Redis is away: 1, 2, 4, then this at most (a PING is cheap; coming
#: back soon after Redis matters more).
MAX_BACKOFF_SECONDS = 5.0
#: A worker or scheduler that ran this long before stopping is started again at once.
HEALTHY_SECONDS = 60.0
#: How often the worker checks that RQ's scheduler (Retry, enqueue_in) still runs, and cleans registries.
MAINTENANCE_SECONDS = 60

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class Stopping(BaseException):
    """SIGTERM or SIGINT came while no worker or scheduler was running: stop (past any ``except Exception``)."""


def _stop_on_signals() -> None:
    def stop(signum, _frame):
        log.info("signal %s: stopping", signum)
        raise Stopping()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def backoff(attempt: int) -> float:
    return min(2.0 ** attempt, MAX_BACKOFF_SECONDS)


def wait_for_redis(connection: redis.Redis, what: str) -> None:
    """Return once Redis answers a PING; until then try again after 1, 2, 4, 5, 5 … s."""
    attempt = 0
    while True:
        try:
            connection.ping()
            if attempt:
                log.warning("%s: Redis answers again", what)
            return
        except REDIS_ERRORS as error:
            wait = backoff(attempt)
            log.warning("%s: Redis is away (%s); trying again in %.0f s", what, error, wait)
            time.sleep(wait)
            attempt += 1


def _hand_over_held(what: str) -> None:
    """The jobs held while Redis was away go to the queue first (on the database's errors: by the cron, later).

    Then this process lets go of its database connections: RQ's work horses are its forks, and a
    connection must never be shared by two processes.
    """
    try:
        hand_over_held()
    except Exception:  # noqa: BLE001 - the cron hands them over every HAND_OVER_SECONDS as well
        log.exception("%s: could not hand the held jobs over now", what)
    finally:
        db.session.remove()
        db.engine.dispose()


class _Stoppable(Protocol):
    stop_asked: bool

    def keep_working(self) -> None: ...


def _log_with_times() -> None:
    """Our lines (app.*) with their time and level, beside RQ's own: Flask's handler on the app's logger."""
    app_logger = current_app.logger
    if app_logger.level == logging.NOTSET:
        app_logger.setLevel(logging.INFO)


def _keep_running(create: Callable[[], _Stoppable], connection: redis.Redis, what: str) -> None:
    """Create and run a worker or scheduler, again and again while Redis comes and goes, until asked to stop."""
    _log_with_times()
    _stop_on_signals()
    restarts = 0
    try:
        while True:
            wait_for_redis(connection, what)
            _hand_over_held(what)
            began = time.monotonic()
            running = create()
            try:
                running.keep_working()
            except REDIS_ERRORS as error:  # RQ's own clean-up after losing Redis fails the same way
                log.warning("%s: lost Redis (%s)", what, error)
            _stop_on_signals()  # RQ's handlers were installed for the one that just stopped
            if running.stop_asked:
                return
            restarts = 0 if time.monotonic() - began >= HEALTHY_SECONDS else restarts + 1
            wait = backoff(restarts - 1) if restarts else 0.0
            log.warning("%s stopped without being asked to; starting again once Redis answers (in %.0f s)",
                        what, wait)
            time.sleep(wait)
    except Stopping:
        return


class _Worker(Worker):
    """RQ's worker that runs urgent and notify jobs in its own process, remembers whether it was asked
    to stop, and reconnects as soon as we do (RQ: 60 s).

    The app is built once, by `flask jobs worker`. A job of the urgent or notify queue runs in this
    process (as RQ's SimpleWorker runs every job): no fork, and the database connection stays in the
    pool (bench/worker_overhead.py: 55-70 ms per job with a fork, 11-20 ms without). A bulk job
    (files, webhooks, re-timing) still runs in a forked work horse: an export's memory goes with it,
    and a crash or a timeout kills the horse, not the worker. Every job gets an app context of its
    own, so a fresh session (and ``g``); a horse first forgets the pooled connections it inherited.
    """

    max_connection_wait_time = MAX_BACKOFF_SECONDS
    stop_asked = False

    @staticmethod
    def _forks(job: Job) -> bool:
        return job.origin.endswith(f"-{BULK}")

    def execute_job(self, job: Job, queue: Queue) -> None:
        if self._forks(job):
            super().execute_job(job, queue)
            return
        execution = self.prepare_execution(job)
        self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def perform_job(self, job: Job, queue: Queue, execution) -> bool:
        with current_app.app_context():  # its own session; closed (back to the pool) when the job ends
            return super().perform_job(job, queue, execution)

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        db.engine.dispose(close=False)  # the worker's pooled connections stay the worker's
        super().main_work_horse(job, queue)

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        if self._forks(job):  # the worker beats while its horse works
            return super().get_heartbeat_ttl(job, working_time)
        return int(job.timeout or DEFAULT_WORKER_TTL) + 60  # no beat until the job ends (SimpleWorker's rule)

    def kill_horse(self, sig=None) -> None:
        if self.horse_pid:  # RQ's own would signal this process's group when no horse runs
            super().kill_horse(*([sig] if sig is not None else []))

    def request_stop(self, signum, frame):
        self.stop_asked = True
        super().request_stop(signum, frame)

    def keep_working(self) -> None:
        try:
            self.work(with_scheduler=True)
        finally:
            # Its clean-up fails with Redis away before it stops the thread that listens for commands:
            # stop it here, or every outage would leave one behind.
            if self.pubsub_thread is not None and self.pubsub_thread.is_alive():
                self.pubsub_thread.stop()
                self.pubsub_thread.join(timeout=1)


def run_worker(queues: Sequence[Queue], burst: bool = False) -> None:
    """`flask jobs worker`: RQ's worker with its scheduler (Retry, enqueue_in), back after every outage.

    It takes every job of the first queue before any of the second, and so on (RQ's default
    dequeue strategy): the urgent queue first.
    """
    connection = queues[0].connection
    sentiment.warm_up()  # once, before the first job (bulk jobs' horses inherit it)
    if burst:
        _hand_over_held("worker")
        _Worker(list(queues), connection=connection).work(burst=True, with_scheduler=True)
        return

    _keep_running(
        lambda: _Worker(list(queues), connection=connection, maintenance_interval=MAINTENANCE_SECONDS),
        connection, "worker",
    )


class _CronScheduler(CronScheduler):
    """RQ's cron scheduler that remembers whether it was asked to stop."""

    stop_asked = False

    def _request_stop(self, signum, frame):
        self.stop_asked = True
        super()._request_stop(signum, frame)

    def keep_working(self) -> None:
        self.start()


def run_cron(connection: redis.Redis, register: Callable[[CronScheduler], None]) -> None:
    """`flask jobs cron`: RQ's cron scheduler with the jobs ``register`` adds, back after every outage.

    A new scheduler enqueues each job at once (then at its interval): the sweeps run right after an outage.
    """

    def create() -> _CronScheduler:
        scheduler = _CronScheduler(connection=connection)
        register(scheduler)
        return scheduler

    _keep_running(create, connection, "cron")
