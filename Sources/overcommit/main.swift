print("overcommit")
