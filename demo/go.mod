module kdoctor.dev/demo

go 1.22
