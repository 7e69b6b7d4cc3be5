"""`python -m bench` from a checkout: the suite itself ships in the package as lepton.bench."""
