package desired

// Dir is the working tree of the clone: the branch head as Git holds it.
// Callers read it; writing into it would change what Render builds.
func (s *Snapshot) Dir() string { return s.checkout.Dir }
