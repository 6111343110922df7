// The plan benchmarks' clocks and lines (`benches/plan_execute.rs` and
// `benches/plan_execute_mimalloc.rs`): wall and CPU time, rates, verdicts. Included with
// `include!`.

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn rate(n: usize, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64()
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`, 100 ticks/s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split(' ').next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// Runs `f`, returning its value, the wall time and the CPU time it took (when known).
fn timed<T>(f: impl FnOnce() -> T) -> (T, (Duration, Option<f64>)) {
    let (started, cpu) = (Instant::now(), cpu_seconds());
    let value = f();
    let elapsed = started.elapsed();
    (value, (elapsed, cpu_seconds().zip(cpu).map(|(b, a)| b - a)))
}

/// One line: wall time and rate, CPU time and rate per CPU-second (on a shared machine the
/// second is the steadier figure), and the target when there is one.
fn report(label: &str, rows: usize, (wall, cpu): (Duration, Option<f64>), target: Option<f64>) {
    let wall_rate = rate(rows, wall);
    let mut line = format!(
        "  {label:<48} {:>7.3} s {wall_rate:>10.0} rows/s",
        wall.as_secs_f64()
    );
    if let Some(cpu) = cpu.filter(|c| *c > 0.0) {
        line.push_str(&format!(
            " | CPU {cpu:>6.2} s {:>10.0} rows/CPU-s",
            rows as f64 / cpu
        ));
    }
    if let Some(target) = target {
        line.push_str(&format!(
            "  (target >= {target:.0} rows/s: {})",
            verdict(wall_rate >= target)
        ));
    }
    println!("{line}");
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}
