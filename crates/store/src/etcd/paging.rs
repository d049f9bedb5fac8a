//! How many entries each page of a listing asks etcd for.
//!
//! etcd 3.4 answers a range read with a limit by first collecting the revision of every
//! key from the start of the range to its end, then cutting the answer to the limit: a
//! page costs the member time in proportion to the keys left to read, not to the page.
//! Reading a large prefix in pages of a fixed small count is therefore quadratic (a
//! million keys in pages of a hundred is ten thousand passes over up to a million keys).
//!
//! So pages are sized by bytes: the first asks for [`EtcdOptions::list_page_size`]
//! entries, and each answer's size per entry sets the next limit so that a page comes
//! near [`EtcdOptions::list_page_bytes`], growing at most [`GROWTH`] times per page and
//! never below the first page's count. A million small records then take about ten
//! round trips. A page that would still be larger than the client accepts (entries far
//! larger than the ones before them) is asked again with a limit [`SHRINK`] times
//! smaller.
//!
//! [`EtcdOptions::list_page_size`]: super::EtcdOptions::list_page_size
//! [`EtcdOptions::list_page_bytes`]: super::EtcdOptions::list_page_bytes

/// The most a page's limit grows from one page to the next, so that one run of small
/// entries does not make the next page, which may hold larger ones, huge.
pub(super) const GROWTH: i64 = 16;
/// How many times smaller the limit gets when a page was refused as too large.
pub(super) const SHRINK: i64 = 16;

/// The limit of the next page of one listing.
#[derive(Debug, Clone)]
pub(super) struct PageSizer {
    /// The entries the next page asks for.
    limit: i64,
    /// The fewest entries a page asks for: the first page's count.
    floor: i64,
    /// The size, in bytes of etcd's answer, a page grows towards.
    budget: usize,
}

impl PageSizer {
    /// A listing whose first page asks for `first` entries (at least one) and whose
    /// later pages come near `budget` bytes.
    pub(super) fn new(first: i64, budget: usize) -> PageSizer {
        let floor = first.max(1);
        PageSizer {
            limit: floor,
            floor,
            budget,
        }
    }

    /// The entries the next page asks for.
    pub(super) fn limit(&self) -> i64 {
        self.limit
    }

    /// Sets the next limit from a page of `entries` entries that took `bytes` bytes of
    /// etcd's answer: as many entries of that average size as fit the budget, at most
    /// [`GROWTH`] times the last limit, at least the first page's count.
    pub(super) fn observe(&mut self, entries: usize, bytes: usize) {
        if entries == 0 {
            return;
        }
        let per_entry = bytes.div_ceil(entries).max(1);
        let fitting = i64::try_from(self.budget / per_entry).unwrap_or(i64::MAX);
        let grown = self.limit.saturating_mul(GROWTH);
        self.limit = fitting.min(grown).max(self.floor);
    }

    /// After a page refused as larger than the client accepts: a limit [`SHRINK`] times
    /// smaller (not below the first page's count). `false` when the limit already was
    /// that count, so asking again cannot help.
    pub(super) fn shrink(&mut self) -> bool {
        if self.limit <= self.floor {
            return false;
        }
        self.limit = (self.limit / SHRINK).max(self.floor);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn small_entries_grow_the_page_towards_the_budget_step_by_step() {
        let mut sizer = PageSizer::new(100, 16 * MIB);
        assert_eq!(sizer.limit(), 100);
        let mut limits = Vec::new();
        for _ in 0..5 {
            let entries = usize::try_from(sizer.limit()).unwrap();
            sizer.observe(entries, entries * 128);
            limits.push(sizer.limit());
        }
        // 16 MiB of 128-byte entries is 131,072 entries, reached sixteen-fold at a time.
        assert_eq!(limits, [1_600, 25_600, 131_072, 131_072, 131_072]);
    }

    #[test]
    fn large_entries_bring_the_limit_down_but_never_below_the_first_count() {
        let mut sizer = PageSizer::new(100, 16 * MIB);
        sizer.observe(100, 100 * 128);
        sizer.observe(1_600, 1_600 * 64 * 1024);
        assert_eq!(sizer.limit(), 256, "16 MiB of 64 KiB entries");
        sizer.observe(256, 256 * 1536 * 1024);
        assert_eq!(
            sizer.limit(),
            100,
            "1.5 MiB entries: the first page's count"
        );
    }

    #[test]
    fn a_budget_below_one_entry_keeps_every_page_at_the_first_count() {
        let mut sizer = PageSizer::new(3, 1);
        for _ in 0..4 {
            sizer.observe(3, 30);
            assert_eq!(sizer.limit(), 3);
        }
    }

    #[test]
    fn an_empty_page_changes_nothing_and_a_zero_first_count_asks_for_one() {
        let mut sizer = PageSizer::new(0, 16 * MIB);
        assert_eq!(sizer.limit(), 1);
        sizer.observe(0, 0);
        assert_eq!(sizer.limit(), 1);
    }

    #[test]
    fn a_refused_page_shrinks_until_the_first_count() {
        let mut sizer = PageSizer::new(100, 16 * MIB);
        sizer.observe(100, 100 * 16);
        sizer.observe(1_600, 1_600 * 16);
        assert_eq!(sizer.limit(), 25_600);
        assert!(sizer.shrink());
        assert_eq!(sizer.limit(), 1_600);
        assert!(sizer.shrink());
        assert_eq!(sizer.limit(), 100);
        assert!(!sizer.shrink(), "already at the first page's count");
        assert_eq!(sizer.limit(), 100);
    }
}
