"""roles/domain_controller: Samba AD DCs and the directory as code (in progress)."""
