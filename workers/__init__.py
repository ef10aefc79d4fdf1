"""The job layer: queues, the pipeline (which stage follows which), job functions, the schedule,
and the CLI commands that enqueue. The only layer that enqueues."""
