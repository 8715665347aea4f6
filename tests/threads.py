"""Jobs started at one moment in threads, as concurrent requests are: for the row-lock tests."""

import threading

from django.db import connections


def at_once(jobs, refused=()) -> list:
    """Run `jobs` in threads released together, each on a database connection of its own.

    Returns each job's result, in order. An exception of a type in `refused` (a refusal the
    test accepts) stands in for its job's result; any other exception fails the test.
    """
    start = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def run(index, job):
        try:
            start.wait()
            results[index] = job()
        except refused as refusal:
            results[index] = refusal
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results
