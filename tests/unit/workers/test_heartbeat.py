"""A worker's CPU and memory as its heartbeat reports them."""


def test_the_sampler_reports_cpu_since_the_last_sample_and_memory():
    from workers.heartbeat import ProcessSampler

    ticks = iter([100.0, 102.0])
    sampler = ProcessSampler(clock=lambda: next(ticks))
    first = sampler.sample()
    sum(i * i for i in range(3_000_000))  # some CPU between the samples
    second = sampler.sample()
    assert first["cpu_percent"] is None and first["rss_mb"] > 10 and first["pid"] > 0
    assert 0 < second["cpu_percent"] <= 100.0 * 2 and second["at"] >= first["at"]
