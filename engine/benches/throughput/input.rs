//! Generated input held in memory: newline-terminated records back to back, with the
//! offset where each one ends, so a benchmark can take the first `n` events or cut the
//! input into one chunk per core at record boundaries.

/// Records, one per line.
#[derive(Clone, Debug, Default)]
pub struct Lines {
    /// The bytes: every record followed by `\n`.
    pub data: Vec<u8>,
    /// `ends[i]` is the offset just past record `i`'s newline.
    pub ends: Vec<usize>,
}

impl Lines {
    /// Appends one record (without its newline).
    pub fn push(&mut self, record: &[u8]) {
        self.data.extend_from_slice(record);
        self.data.push(b'\n');
        self.ends.push(self.data.len());
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes of the first `n` records.
    pub fn prefix(&self, n: usize) -> &[u8] {
        match n.min(self.len()) {
            0 => &[],
            n => &self.data[..self.ends[n - 1]],
        }
    }

    /// The first `n` records cut into `parts` chunks of about the same number of
    /// records, at record boundaries: `(bytes, records)` per chunk.
    pub fn chunks(&self, n: usize, parts: usize) -> Vec<(&[u8], usize)> {
        let n = n.min(self.len());
        let parts = parts.max(1);
        let mut out = Vec::with_capacity(parts);
        let mut start_rec = 0;
        for p in 0..parts {
            let end_rec = n * (p + 1) / parts;
            let start = if start_rec == 0 {
                0
            } else {
                self.ends[start_rec - 1]
            };
            let end = if end_rec == 0 {
                0
            } else {
                self.ends[end_rec - 1]
            };
            out.push((&self.data[start..end], end_rec - start_rec));
            start_rec = end_rec;
        }
        out
    }

    /// Record sizes in bytes (without the newline): min, median, mean, 99th percentile,
    /// max.
    pub fn size_stats(&self) -> [usize; 5] {
        let mut sizes: Vec<usize> = self
            .ends
            .iter()
            .scan(0, |start, &end| {
                let len = end - *start - 1;
                *start = end;
                Some(len)
            })
            .collect();
        sizes.sort_unstable();
        if sizes.is_empty() {
            return [0; 5];
        }
        let mean = sizes.iter().sum::<usize>() / sizes.len();
        [
            sizes[0],
            sizes[sizes.len() / 2],
            mean,
            sizes[sizes.len() * 99 / 100],
            sizes[sizes.len() - 1],
        ]
    }
}
