//! What a restore cannot do by itself, in words: the notes of [`crate::plan::Restore`].

use std::io::{self, Write};

/// Each note on a line of its own, after `note:`.
pub fn restore_notes_text(notes: &[String], w: &mut dyn Write) -> io::Result<()> {
    for n in notes {
        writeln!(w, "note: {n}")?;
    }
    Ok(())
}
