module kdoctor.local/cluster/testapp

go 1.22
