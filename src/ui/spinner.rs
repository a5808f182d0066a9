//! A one-line progress indicator on stderr: animated on a terminal, plain lines otherwise
//! (logs and CI get each new message once, not a stream of redraws).

use std::io::Write;
use std::time::{Duration, Instant};

const FRAMES: [&str; 4] = ["-", "\\", "|", "/"];

pub struct Spinner {
    started: Instant,
    message: String,
    frame: usize,
    tty: bool,
    drawn: bool,
}

impl Spinner {
    /// `tty`: stderr is a terminal (from the injected process environment).
    pub fn new(message: impl Into<String>, tty: bool) -> Spinner {
        let mut s = Spinner {
            started: Instant::now(),
            message: String::new(),
            frame: 0,
            tty,
            drawn: false,
        };
        s.set(message);
        s
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Change the message; off a terminal the new message is printed once.
    pub fn set(&mut self, message: impl Into<String>) {
        let message = message.into();
        if message == self.message {
            return;
        }
        self.message = message;
        if self.tty {
            self.tick();
        } else {
            eprintln!("{}", self.message);
        }
    }

    /// Redraw with the next frame and the elapsed time (terminals only).
    pub fn tick(&mut self) {
        if !self.tty {
            return;
        }
        self.frame = (self.frame + 1) % FRAMES.len();
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} {} ({}s)",
            FRAMES[self.frame],
            self.message,
            self.started.elapsed().as_secs()
        );
        let _ = err.flush();
        self.drawn = true;
    }

    /// Erase the line so the final result stands alone.
    pub fn clear(&mut self) {
        if self.tty && self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.clear();
    }
}
