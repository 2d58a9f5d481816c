module kdoctor.local/cluster/pause

go 1.22
