//! Git plumbing: gix reads, git writes. (in progress)
