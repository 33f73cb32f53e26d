int scenescope_stub(){return 0;}
