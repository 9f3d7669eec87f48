"""bimkit: infrastructure as code and disaster recovery for a municipal IT directorate."""
