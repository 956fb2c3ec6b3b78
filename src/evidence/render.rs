//! Text rendering of stored records.
