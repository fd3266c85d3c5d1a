addtotals fieldname=Total row=true col=true bytes, packets
