# pyinfra data for every host. Connection settings only; no secrets here
# (bimkit refuses secret-looking names in group_data/).
ssh_user = "root"
