//! Log lines written in batches by a thread of their own.
//!
//! A request only appends its formatted line to a shared buffer (a lock and a copy); the writer
//! thread writes what has gathered in one `write` every [`FLUSH_INTERVAL`], or at once when
//! [`FLUSH_BYTES`] are waiting. Nothing is dropped: when [`MAX_BYTES`] are waiting (the sink is
//! slower than the logging), a request waits for the writer. Warnings and errors wake the writer
//! at once. Dropping the [`Guard`] writes out what is left. A writer woken per line (a channel, as tracing-appender's) costs more CPU than
//! the write it saves when server and logger share a core; a batch costs one wake-up per interval.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a line may wait before it is written.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(20);
/// Waiting lines of this many bytes are written at once.
pub const FLUSH_BYTES: usize = 32 * 1024;
/// With this many bytes waiting, a request waits for the writer instead of adding more.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;

struct State {
    pending: Vec<u8>,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    /// The writer waits here for lines (or the interval); requests wait here for room.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a valid buffer: carry on with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The `MakeWriter` half: cheap to clone, one per event.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
    /// Wake the writer at once (warnings and errors: they are what an operator looks for when
    /// the process is about to die).
    urgent: bool,
}

/// The writer thread's handle: dropping it writes out the lines still waiting and stops it.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// Starts the writer thread over `sink` (stderr in the server).
pub fn batched<W: Write + Send + 'static>(sink: W) -> std::io::Result<(BatchedWriter, Guard)> {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            pending: Vec::with_capacity(FLUSH_BYTES),
            closed: false,
        }),
        changed: Condvar::new(),
    });
    let thread = std::thread::Builder::new().name("log-writer".into()).spawn({
        let shared = shared.clone();
        move || write_batches(&shared, sink)
    })?;
    Ok((
        BatchedWriter {
            shared: shared.clone(),
            urgent: false,
        },
        Guard {
            shared,
            thread: Some(thread),
        },
    ))
}

fn write_batches<W: Write>(shared: &Shared, mut sink: W) {
    let mut batch = Vec::with_capacity(FLUSH_BYTES);
    loop {
        let closed = {
            let mut state = shared.lock();
            if state.pending.len() < FLUSH_BYTES && !state.closed {
                state = shared
                    .changed
                    .wait_timeout(state, FLUSH_INTERVAL)
                    .map(|(s, _)| s)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            std::mem::swap(&mut batch, &mut state.pending);
            state.closed
        };
        // Room again for requests waiting on a full buffer.
        shared.changed.notify_all();
        if !batch.is_empty() {
            // Nowhere to report a failed write of the log itself; the lines are lost, not the
            // process.
            let _ = sink.write_all(&batch).and_then(|()| sink.flush());
            batch.clear();
            if batch.capacity() > 4 * FLUSH_BYTES {
                batch.shrink_to(FLUSH_BYTES);
            }
        }
        if closed && shared.lock().pending.is_empty() {
            return;
        }
    }
}

impl Write for BatchedWriter {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut state = self.shared.lock();
        while state.pending.len() >= MAX_BYTES && !state.closed {
            self.shared.changed.notify_all();
            state = self.shared.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.pending.extend_from_slice(line);
        if self.urgent || state.pending.len() >= FLUSH_BYTES {
            self.shared.changed.notify_all();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BatchedWriter {
    type Writer = BatchedWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        BatchedWriter {
            shared: self.shared.clone(),
            urgent: *meta.level() <= tracing::Level::WARN,
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink the test can read, counting the writes it got.
    #[derive(Clone, Default)]
    struct Sink {
        bytes: Arc<Mutex<Vec<u8>>>,
        writes: Arc<Mutex<usize>>,
        delay: Duration,
    }

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            std::thread::sleep(self.delay);
            self.bytes.lock().expect("sink").extend_from_slice(b);
            *self.writes.lock().expect("sink") += 1;
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("line {i} {}\n", "x".repeat(i % 300))).collect()
    }

    #[test]
    fn writes_every_line_in_order_in_few_writes_and_the_rest_on_drop() {
        let sink = Sink::default();
        let (writer, guard) = batched(sink.clone()).expect("thread");
        let want = lines(5_000);
        for l in &want {
            writer.clone().write_all(l.as_bytes()).expect("write");
        }
        drop(guard);
        assert_eq!(
            String::from_utf8(sink.bytes.lock().expect("sink").clone()).expect("utf-8"),
            want.concat()
        );
        let writes = *sink.writes.lock().expect("sink");
        assert!(writes < 100, "{writes} writes for 5 000 lines");
    }

    #[test]
    fn a_line_waits_at_most_about_the_interval() {
        let sink = Sink::default();
        let (writer, _guard) = batched(sink.clone()).expect("thread");
        writer.clone().write_all(b"one line\n").expect("write");
        let deadline = std::time::Instant::now() + 50 * FLUSH_INTERVAL;
        while sink.bytes.lock().expect("sink").is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "not written within {:?}",
                50 * FLUSH_INTERVAL
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(*sink.bytes.lock().expect("sink"), b"one line\n");
    }

    #[test]
    fn a_slow_sink_makes_writers_wait_and_loses_nothing() {
        let sink = Sink {
            delay: Duration::from_millis(30),
            ..Sink::default()
        };
        let (writer, guard) = batched(sink.clone()).expect("thread");
        // Three times the buffer's bound, from four threads at once.
        let line = vec![b'y'; 1023];
        let per_thread = 3 * MAX_BYTES / 1024 / 4;
        std::thread::scope(|s| {
            for _ in 0..4 {
                let mut w = writer.clone();
                let line = &line;
                s.spawn(move || {
                    for _ in 0..per_thread {
                        w.write_all(line).expect("write");
                        w.write_all(b"\n").expect("write");
                        assert!(w.shared.lock().pending.len() <= MAX_BYTES + 1024);
                    }
                });
            }
        });
        drop(guard);
        assert_eq!(sink.bytes.lock().expect("sink").len(), 4 * per_thread * 1024);
    }
}
