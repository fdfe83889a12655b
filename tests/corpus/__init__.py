"""The hostile input corpus: files and emails built to break the intake, and what each must be told."""
