stats count(*) as n by host | appendcols override=false max=100 (stats count(*) as total)
